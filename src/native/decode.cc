// The KV cache of batched decoding: storing keys/values and one decoding step's attention.
//
// The cache is [sequences, cap, heads, headDim] per layer, in f32 (Float32Array) or bf16
// (Uint16Array of bf16 bits; the bf16 rollout's cache, half the bytes). A decoding step reads
// every generating sequence's whole visible cache once: that stream is the rollout's dominant
// memory traffic, so bf16 halves it. A step's rows are the sequences still generating (seqOf maps
// row -> cache sequence), so finished ones cost nothing. Both kernels compute each row's output in
// one task in a fixed order, so their results do not depend on the thread count (threads.h).
#include "addon.h"
#include "args.h"
#include "bf16.h"
#include "expf.h"
#include "threads.h"

#include <omp.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace visurf {

inline float Load(const float* p, int64_t i) { return p[i]; }
inline float Load(const uint16_t* p, int64_t i) { return Bf16ToF32(p[i]); }
inline void Put(float* p, int64_t i, float x) { p[i] = x; }
inline void Put(uint16_t* p, int64_t i, float x) { p[i] = F32ToBf16(x); }

#ifdef __AVX512F__
// 16 consecutive cache values as f32 lanes (bf16 widens exactly: its bits are f32's top half).
inline __m512 Load16(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 Load16(const uint16_t* p) {
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// Scores and values of one sequence with whole 16-lane head-dim vectors (D = 32, 64, ...): one
// product per 16 lanes, one horizontal sum per (key, head). The compiler's vectorisation of the
// generic loops, with a run-time D, measured ~2x slower on bf16 caches.
template <typename T>
static void VectorScores(const float* qb, const T* kb, int64_t len, int64_t H, int64_t D,
                         int64_t cap, float scale, float* w) {
  const int64_t HD = H * D;
  for (int64_t j = 0; j < len; j++) {
    const T* kr = kb + j * HD;
    for (int64_t h = 0; h < H; h++) {
      __m512 acc = _mm512_setzero_ps();
      for (int64_t d = 0; d < D; d += 16)
        acc = _mm512_fmadd_ps(_mm512_loadu_ps(qb + h * D + d), Load16(kr + h * D + d), acc);
      w[h * cap + j] = _mm512_reduce_add_ps(acc) * scale;
    }
  }
}

template <typename T>
static void VectorValues(const T* vb, int64_t len, int64_t H, int64_t D, int64_t cap,
                         const float* w, const float* inv, float* o) {
  const int64_t HD = H * D;
  for (int64_t j = 0; j < len; j++) {
    const T* vr = vb + j * HD;
    for (int64_t h = 0; h < H; h++) {
      const __m512 p = _mm512_set1_ps(w[h * cap + j] * inv[h]);
      for (int64_t d = 0; d < D; d += 16) {
        float* od = o + h * D + d;
        _mm512_storeu_ps(od, _mm512_fmadd_ps(p, Load16(vr + h * D + d), _mm512_loadu_ps(od)));
      }
    }
  }
}
constexpr bool kVector = true;
#else
template <typename T>
static void VectorScores(const float*, const T*, int64_t, int64_t, int64_t, int64_t, float,
                         float*) {}
template <typename T>
static void VectorValues(const T*, int64_t, int64_t, int64_t, int64_t, const float*,
                         const float*, float*) {}
constexpr bool kVector = false;
#endif

// ------------------------------------------------------------------------------- store

// For each pair i: cache sequence dest[i], positions start[i] + t, takes k and v of token t of
// qkv row source[i], t in [0, seq); qkv [rows, seq, 3, W]. The pairs' destinations must not
// overlap (pairs run in parallel): a prefill stores each sequence once, a step each row's own.
template <typename T>
static void Store(const float* qkv, T* kc, T* vc, int64_t count, int64_t seq, int64_t W,
                  int64_t cap, const int32_t* source, const int32_t* dest, const int32_t* start) {
  const double work = static_cast<double>(count) * seq * W;
#pragma omp parallel for schedule(static) if (work >= ExactSerialFlops())
  for (int64_t i = 0; i < count; i++) {
    for (int64_t t = 0; t < seq; t++) {
      const float* row = qkv + (source[i] * seq + t) * 3 * W;
      const int64_t dst = (dest[i] * cap + start[i] + t) * W;
#pragma omp simd
      for (int64_t e = 0; e < W; e++) {
        Put(kc, dst + e, row[W + e]);
        Put(vc, dst + e, row[2 * W + e]);
      }
    }
  }
}

// Fails (naming the field) unless index[i] is in [0, bound) for every i.
static bool CheckIndices(Args& args, const int32_t* index, int64_t n, int64_t bound,
                         const char* name, const std::string& what) {
  for (int64_t i = 0; i < n; i++) {
    if (index[i] < 0 || index[i] >= bound) {
      args.FailRange(std::string(name) + "[" + std::to_string(i) + "] = " +
                     std::to_string(index[i]) + " is outside " + what);
      return false;
    }
  }
  return true;
}

// kvStore(qkv, kCache, vCache, count, seq, width, cap, source, dest, start)
static Napi::Value KvStore(const Napi::CallbackInfo& info) {
  Args args(info, "kvStore", 10);
  const int64_t n = args.Size(3, "count"), seq = args.Size(4, "seq"), W = args.Size(5, "width"),
                cap = args.Size(6, "cap");
  if (args.ok() && (n == 0 || seq == 0 || W == 0 || cap == 0))
    args.Fail("count, seq, width and cap must be positive");
  const float* qkv = args.F32(0, "qkv", Elems(seq, 3, W));
  const bool bf = args.ok() && args.IsU16(1);
  void* kc = bf ? static_cast<void*>(args.U16(1, "kCache", Elems(cap, W)))
                : static_cast<void*>(args.F32(1, "kCache", Elems(cap, W)));
  const uint64_t cacheLen = args.ok() ? args.Length(1) : 0;
  void* vc = bf ? static_cast<void*>(args.U16(2, "vCache", cacheLen))
                : static_cast<void*>(args.F32(2, "vCache", cacheLen));
  const int32_t* source = args.I32(7, "source", Elems(n));
  const int32_t* dest = args.I32(8, "dest", Elems(n));
  const int32_t* start = args.I32(9, "start", Elems(n));
  if (!args.ok()) return info.Env().Undefined();
  const int64_t rows = static_cast<int64_t>(args.Length(0) / Elems(seq, 3, W));
  const int64_t seqs = static_cast<int64_t>(cacheLen / Elems(cap, W));
  if (!CheckIndices(args, source, n, rows, "source", "qkv's " + std::to_string(rows) + " rows") ||
      !CheckIndices(args, dest, n, seqs,
                    "dest", "the cache's " + std::to_string(seqs) + " sequences"))
    return info.Env().Undefined();
  for (int64_t i = 0; i < n; i++) {
    if (start[i] < 0 || start[i] + seq > cap) {
 args.FailRange("start[" + std::to_string(i) + "] = " + std::to_string(start[i]) + " + seq " +
                std::to_string(seq) + " is outside [0, cap = " + std::to_string(cap) + "]");
      return info.Env().Undefined();
    }
  }
  if (bf)
    Store(qkv, static_cast<uint16_t*>(kc), static_cast<uint16_t*>(vc), n, seq, W, cap, source,
          dest, start);
  else
    Store(qkv, static_cast<float*>(kc), static_cast<float*>(vc), n, seq, W, cap, source, dest,
          start);
  return info.Env().Undefined();
}

// ------------------------------------------------------------------------------- attention

// Scores w[h, j] = q_h · k_jh * scale for any head dim.
template <typename T>
static void GenericScores(const float* qb, const T* kb, int64_t len, int64_t H, int64_t D,
                          int64_t cap, float scale, float* w) {
  const int64_t HD = H * D;
  for (int64_t j = 0; j < len; j++) {
    const T* kr = kb + j * HD;
    for (int64_t h = 0; h < H; h++) {
      float dot = 0.f;
      // simd reduction: without it (no -ffast-math) the float sum stays a scalar chain.
#pragma omp simd reduction(+ : dot)
      for (int64_t d = 0; d < D; d++) dot += qb[h * D + d] * Load(kr, h * D + d);
      w[h * cap + j] = dot * scale;
    }
  }
}

// Each head's scores [0, len) to exp(w - max), and inv[h] = 1 / their sum.
static void Softmax(float* w, int64_t len, int64_t H, int64_t cap, float* inv) {
  for (int64_t h = 0; h < H; h++) {
    float* wh = w + h * cap;
    float mx = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < len; j++) mx = std::max(mx, wh[j]);
    float sum = 0.f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < len; j++) {
      wh[j] = ExpF(wh[j] - mx);
      sum += wh[j];
    }
    inv[h] = 1.f / sum;
  }
}

// o[h] += p_jh * v_jh over the visible rows, for any head dim.
template <typename T>
static void GenericValues(const T* vb, int64_t len, int64_t H, int64_t D, int64_t cap,
                          const float* w, const float* inv, float* o) {
  const int64_t HD = H * D;
  for (int64_t j = 0; j < len; j++) {
    const T* vr = vb + j * HD;
    for (int64_t h = 0; h < H; h++) {
      const float p = w[h * cap + j] * inv[h];
#pragma omp simd
      for (int64_t d = 0; d < D; d++) o[h * D + d] += p * Load(vr, h * D + d);
    }
  }
}

// One sequence's step: its query (all heads) against cached rows [0, len). Each cached key/value
// row ([heads, headDim], contiguous) is streamed once, in order; per-(sequence, head) tasks read
// it as 128-byte pieces 1 KiB apart, measured ~2x slower. w: [heads, cap] scratch, o: [heads*D].
template <typename T>
static void DecodeSequence(const float* qb, const T* kb, const T* vb, int64_t len, int64_t H,
                           int64_t D, int64_t cap, float scale, float* w, float* inv, float* o,
                           float* ob) {
  const int64_t HD = H * D;
  if (len <= 0) {
    std::fill(ob, ob + HD, 0.f);
    return;
  }
  const bool vector = kVector && D % 16 == 0;
  if (vector) VectorScores(qb, kb, len, H, D, cap, scale, w);
  else GenericScores(qb, kb, len, H, D, cap, scale, w);
  Softmax(w, len, H, cap, inv);
  std::fill(o, o + HD, 0.f);
  if (vector) VectorValues(vb, len, H, D, cap, w, inv, o);
  else GenericValues(vb, len, H, D, cap, w, inv, o);
  std::copy(o, o + HD, ob);
}

template <typename T>
static void Decode(const float* q, const T* kc, const T* vc, float* out, int64_t B, int64_t H,
                   int64_t D, int64_t cap, const int32_t* lens, const int32_t* seqOf) {
  const int64_t HD = H * D;
  const float scale = 1.f / std::sqrt(static_cast<float>(D));
  double work = 0;  // flops: q·k and p·v over every visible key
  for (int64_t b = 0; b < B; b++) work += 4.0 * HD * lens[b];
#pragma omp parallel if (work >= ExactSerialFlops())
  {
    std::vector<float> w(H * cap), o(HD), inv(H);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < B; b++)
      DecodeSequence(q + b * 3 * HD, kc + seqOf[b] * cap * HD, vc + seqOf[b] * cap * HD, lens[b],
                     H, D, cap,
                     scale, w.data(), inv.data(), o.data(), out + b * HD);
  }
}

// attentionDecode(qkv, kCache, vCache, out, rows, heads, headDim, cap, lens, seqOf)
// Row r's new query against cache sequence seqOf[r]'s keys [0, lens[r]).
static Napi::Value AttentionDecode(const Napi::CallbackInfo& info) {
  Args args(info, "attentionDecode", 10);
  const int64_t B = args.Size(4, "rows"), H = args.Size(5, "heads"), D = args.Size(6, "headDim"),
                cap = args.Size(7, "cap");
  if (args.ok() && (B == 0 || H == 0 || D == 0 || cap == 0))
    args.Fail("rows, heads, headDim and cap must be positive");
  const float* q = args.F32(0, "qkv", Elems(B, 3 * H, D));
  const bool bf = args.ok() && args.IsU16(1);
  const void* kc = bf ? static_cast<const void*>(args.U16(1, "kCache", Elems(cap, H, D)))
                      : static_cast<const void*>(args.F32(1, "kCache", Elems(cap, H, D)));
  const uint64_t cacheLen = args.ok() ? args.Length(1) : 0;
  const void* vc = bf ? static_cast<const void*>(args.U16(2, "vCache", cacheLen))
                      : static_cast<const void*>(args.F32(2, "vCache", cacheLen));
  float* out = args.F32(3, "out", Elems(B, H, D));
  const int32_t* lens = args.I32(8, "lens", Elems(B));
  const int32_t* seqOf = args.I32(9, "seqOf", Elems(B));
  if (!args.ok()) return info.Env().Undefined();
  const int64_t seqs = static_cast<int64_t>(cacheLen / Elems(cap, H, D));
  if (!CheckIndices(args, seqOf, B, seqs, "seqOf",
                    "the cache's " + std::to_string(seqs) + " sequences"))
    return info.Env().Undefined();
  for (int64_t b = 0; b < B; b++) {
    if (lens[b] < 0 || lens[b] > cap) {
 args.FailRange("lens[" + std::to_string(b) + "] = " + std::to_string(lens[b]) +
                " is outside [0, cap = " + std::to_string(cap) + "]");
      return info.Env().Undefined();
    }
  }
  if (bf)
    Decode(q, static_cast<const uint16_t*>(kc), static_cast<const uint16_t*>(vc), out, B, H, D,
           cap, lens, seqOf);
  else
    Decode(q, static_cast<const float*>(kc), static_cast<const float*>(vc), out, B, H, D, cap,
           lens, seqOf);
  return info.Env().Undefined();
}

// ------------------------------------------------------------------------------- sampling

// One token per row from logits [*, vocab] (row r reads row rowOf[r]), the specification being
// sampleTokens in src/engine/kernels/reference/decode.ts: in f64, x_j = logit_j / temperature,
// e_j = exp(x_j - max), the token is the first j whose running sum of e_j reaches
// uniforms[r] * sum (the most likely one if rounding leaves a sliver), its log-probability
// x_j - (max + log sum). temperature <= 0: the first most likely token at temperature 1.
// Rows are independent and each is one task, so the result does not depend on the thread count.
static void SampleRow(const float* l, int64_t V, double temperature, double u, double* e,
                      int32_t* token, float* logprob) {
  const bool greedy = temperature <= 0;
  const double t = greedy ? 1.0 : temperature;
  int64_t best = 0;
  double mx = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < V; j++) {
    const double x = l[j] / t;
    if (x > mx) {
      mx = x;
      best = j;
    }
  }
  double sum = 0;
  for (int64_t j = 0; j < V; j++) {
    e[j] = std::exp(l[j] / t - mx);
    sum += e[j];
  }
  const double lse = mx + std::log(sum);
  int64_t pick = best;
  if (!greedy) {
    double left = u * sum;
    for (int64_t j = 0; j < V; j++) {
      left -= e[j];
      if (left <= 0) {
        pick = j;
        break;
      }
    }
  }
  *token = static_cast<int32_t>(pick);
  *logprob = static_cast<float>(l[pick] / t - lse);
}

// sampleTokens(logits, vocab, rows, rowOf, temperature, uniforms, tokens, logprobs)
static Napi::Value SampleTokens(const Napi::CallbackInfo& info) {
  Args args(info, "sampleTokens", 8);
  const int64_t V = args.Size(1, "vocab"), R = args.Size(2, "rows");
  const double temperature = args.Number(4, "temperature");
  if (args.ok() && V == 0) args.Fail("vocab must be positive");
  if (args.ok() && !std::isfinite(temperature)) args.Fail("temperature must be finite");
  const float* logits = args.F32(0, "logits", Elems(V));
  const int32_t* rowOf = args.I32(3, "rowOf", Elems(R));
  const double* uniforms = args.F64(5, "uniforms", Elems(R));
  int32_t* tokens = args.I32(6, "tokens", Elems(R));
  float* logprobs = args.F32(7, "logprobs", Elems(R));
  if (!args.ok()) return info.Env().Undefined();
  const int64_t logitRows = static_cast<int64_t>(args.Length(0) / V);
  if (!CheckIndices(args, rowOf, R, logitRows,
                    "rowOf", "the logits' " + std::to_string(logitRows) + " rows"))
    return info.Env().Undefined();
#pragma omp parallel if (ExactParallelElements(R * V))
  {
    std::vector<double> e(V);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < R; r++)
      SampleRow(logits + rowOf[r] * V, V, temperature, uniforms[r], e.data(), tokens + r,
                logprobs + r);
  }
  return info.Env().Undefined();
}

void RegisterDecode(Napi::Env env, Napi::Object exports) {
  exports.Set("sampleTokens", Napi::Function::New(env, Guarded<SampleTokens>));
  exports.Set("kvStore", Napi::Function::New(env, Guarded<KvStore>));
  exports.Set("attentionDecode", Napi::Function::New(env, Guarded<AttentionDecode>));
}

}  // namespace visurf
