// Matrix products and fused attention on oneDNN (f32, or bf16 inputs with f32 accumulation).
//
// Every product is a oneDNN matmul primitive described with explicit strides, so transposes and
// the fused [q|k|v] layout are read in place: no transposed copies are ever materialised.
// Primitives are cached by their full description (shapes, strides, dtype, accumulate, thread
// count, scratchpad mode), since creating one costs far more than running a small one.
#include "addon.h"
#include "args.h"
#include "bf16.h"
#include "expf.h"
#include "onednn.h"

#include <dnnl.hpp>
#include <omp.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace visurf {

using dnnl::memory;
using Dims = memory::dims;
using Dt = memory::data_type;

// One strided operand of a product.
struct Operand {
  Dims dims;
  Dims strides;
};

struct CachedMatmul {
  dnnl::matmul prim;
  std::string impl;
  memory::desc scratchpad;  // of a primitive with its own (user) scratchpad, else empty
};

static std::string Key(const Operand& a, const Operand& b, const Operand& c, Dt dt, bool acc,
                       bool ownScratchpad) {
  std::ostringstream k;
  k << omp_get_max_threads() << '#';  // a primitive's blocking depends on the thread count
  for (auto* o : {&a, &b, &c}) {
    for (auto d : o->dims) k << d << ',';
    k << '/';
    for (auto s : o->strides) k << s << ',';
    k << '|';
  }
  k << static_cast<int>(dt) << (acc ? 'a' : 'w') << (ownScratchpad ? 'u' : 'l');
  return k.str();
}

// ownScratchpad: the primitive takes its scratchpad from the caller (user mode), so that two
// primitives can run at once; the library's scratchpad is shared by all of them.
static CachedMatmul& GetMatmul(const Operand& a, const Operand& b, const Operand& c, Dt dt,
                               bool accumulate, bool ownScratchpad = false) {
  static std::unordered_map<std::string, CachedMatmul> cache;
  std::string key = Key(a, b, c, dt, accumulate, ownScratchpad);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  memory::desc amd(a.dims, dt, a.strides), bmd(b.dims, dt, b.strides),
      cmd(c.dims, Dt::f32, c.strides);
  dnnl::primitive_attr attr;
  if (accumulate) {
    dnnl::post_ops po;
    po.append_sum(1.0f);
    attr.set_post_ops(po);
  }
  if (ownScratchpad) attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(amd, bmd, cmd), attr, Engine());
  CachedMatmul entry{dnnl::matmul(pd), pd.impl_info_str(),
                     ownScratchpad ? pd.scratchpad_desc() : memory::desc()};
  return cache.emplace(key, std::move(entry)).first->second;
}

// Scratch buffers reused across calls (the addon is only ever called from the JS thread).
static std::vector<uint16_t>& Scratch16(int slot, size_t n) {
  static std::vector<uint16_t> bufs[4];
  if (bufs[slot].size() < n) bufs[slot].resize(n);
  return bufs[slot];
}
static std::vector<float>& Scratch32(size_t n) {
  static std::vector<float> buf;
  if (buf.size() < n) buf.resize(n);
  return buf;
}

// Runs C (+)= A·B where a/b point at f32 data (converted to bf16 first if bf16) or at already
// converted bf16 data (preconverted = true).
static void RunMatmulNow(const Operand& a, const void* ap, const Operand& b, const void* bp,
                         const Operand& c, float* cp, Dt dt, bool accumulate) {
  CachedMatmul& mm = GetMatmul(a, b, c, dt, accumulate);
  memory::desc amd(a.dims, dt, a.strides), bmd(b.dims, dt, b.strides),
      cmd(c.dims, Dt::f32, c.strides);
  memory am(amd, Engine(), const_cast<void*>(ap));
  memory bm(bmd, Engine(), const_cast<void*>(bp));
  memory cm(cmd, Engine(), cp);
  mm.prim.execute(Stream(), {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
  Stream().wait();
}

static double Flops(const Operand& a, const Operand& c) {  // 2 * batch * m * n * k
  double f = 2.0 * static_cast<double>(a.dims.back());
  for (auto d : c.dims) f *= static_cast<double>(d);
  return f;
}

static void RunMatmul(const Operand& a, const void* ap, const Operand& b, const void* bp,
                      const Operand& c, float* cp, Dt dt, bool accumulate) {
  MaybeSerial(Flops(a, c) < SerialFlops(),
              [&] { RunMatmulNow(a, ap, b, bp, c, cp, dt, accumulate); });
}

// Products between the two bars of threads.h (a decoding step's: 17-92 MFLOP) as two fixed row
// halves, each a one-thread product with its own scratchpad: on idle cores the halves run at
// once on two threads, on shared cores one after the other. The halves are the same two
// products either way, so the result does not depend on the load; letting oneDNN itself use two
// threads would (it may split a product's reduction: measured, 56 of 860 shapes between 2^20 and
// 2^28 FLOPs gave different bits on 1 and 2 threads, all with k >= 1000).
// a: [m, k] rows contiguous (row stride k), c: [m, n]; elem: bytes per element of a.
// The rule does not look at the thread count or the load, so the same products are always split
// the same way; only whether the halves run at once does (RunRowHalves).
static bool RowHalvesApply(int64_t batch, int64_t m, bool transA, double flops) {
  return batch == 1 && !transA && m >= 32 && flops >= kIdleSerialFlops && flops < SerialFlops();
}

static void RunRowHalves(int64_t m, int64_t k, int64_t n, const void* ap, size_t elem,
                         const Operand& b, const void* bp, float* cp, Dt dt, bool accumulate) {
  const int64_t rows[2] = {m / 2, m - m / 2};
  CachedMatmul* half[2];
  MaybeSerial(true, [&] {  // created for one thread: that is how each half runs
    for (int h = 0; h < 2; h++) {
      const Operand ah{{1, rows[h], k}, {rows[h] * k, k, 1}};
      const Operand ch{{1, rows[h], n}, {rows[h] * n, n, 1}};
      half[h] = &GetMatmul(ah, b, ch, dt, accumulate, true);
    }
  });
  static std::vector<uint8_t> scratch[2];
  static dnnl::stream streams[2] = {dnnl::stream(Engine()), dnnl::stream(Engine())};
  auto run = [&](int h) {
    const int64_t r0 = h == 0 ? 0 : rows[0];
    const Operand ah{{1, rows[h], k}, {rows[h] * k, k, 1}};
    const Operand ch{{1, rows[h], n}, {rows[h] * n, n, 1}};
    memory am(memory::desc(ah.dims, dt, ah.strides), Engine(),
              const_cast<uint8_t*>(static_cast<const uint8_t*>(ap)) + r0 * k * elem);
    memory bm(memory::desc(b.dims, dt, b.strides), Engine(), const_cast<void*>(bp));
    memory cm(memory::desc(ch.dims, Dt::f32, ch.strides), Engine(), cp + r0 * n);
    const size_t bytes = half[h]->scratchpad.get_size();
    if (scratch[h].size() < bytes) scratch[h].resize(bytes);
    memory sm(half[h]->scratchpad, Engine(), scratch[h].data());
    half[h]->prim.execute(streams[h], {{DNNL_ARG_SRC, am},
                                       {DNNL_ARG_WEIGHTS, bm},
                                       {DNNL_ARG_DST, cm},
                                       {DNNL_ARG_SCRATCHPAD, sm}});
    streams[h].wait();
  };
  // at once only with two threads allowed, the load probe on (no fixed bar) and the cores idle
  if (omp_get_max_threads() >= 2 && SerialFlopsSetting() < 0 && !CoresShared()) {
#pragma omp parallel num_threads(2)
    // a team smaller than asked for (a thread limit) still runs both halves
    for (int h = omp_get_thread_num(); h < 2; h += omp_get_num_threads()) run(h);
  } else {
    MaybeSerial(true, [&] {
      run(0);
      run(1);
    });
  }
}

// A product's shape from its spec object (checked by Args: positive sizes, booleans, dtype).
struct MatmulShape {
  int64_t batch, m, n, k;
  bool transA, transB, bcast, acc;
  Dt dt;
  uint64_t needA() const { return Elems(batch, m, k); }
  uint64_t needB() const { return Elems(bcast ? 1 : batch, k, n); }
  uint64_t needC() const { return Elems(batch, m, n); }
  Operand a() const { return {{batch, m, k}, transA ? Dims{m * k, 1, m} : Dims{m * k, k, 1}}; }
  Operand b() const {
    return {{bcast ? 1 : batch, k, n}, transB ? Dims{k * n, 1, k} : Dims{k * n, n, 1}};
  }
  Operand c() const { return {{batch, m, n}, {m * n, n, 1}}; }
};

static MatmulShape ReadMatmulShape(Args& args, const Napi::Object& s) {
  MatmulShape r{};
  r.batch = args.SpecSize(s, "batch");
  r.m = args.SpecSize(s, "m");
  r.n = args.SpecSize(s, "n");
  r.k = args.SpecSize(s, "k");
  r.transA = args.SpecBool(s, "transA");
  r.transB = args.SpecBool(s, "transB");
  r.bcast = args.SpecBool(s, "broadcastB");
  r.acc = args.SpecBool(s, "accumulate");
  r.dt = args.SpecIsBf16(s, "dtype") ? Dt::bf16 : Dt::f32;
  return r;
}

// ------------------------------------------------------------------------------------ matmul

// matmul(a, b, c, spec)
static Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Args args(info, "matmul", 4);
  const Napi::Object s = args.Spec(3, "spec");
  const MatmulShape sh = ReadMatmulShape(args, s);
  const float* A = args.F32(0, "a", sh.needA());
  const float* B = args.F32(1, "b", sh.needB());
  float* C = args.F32(2, "c", sh.needC());
  // A cached bf16 copy of B (a weight) skips B's conversion.
  const uint16_t* preB16 = args.SpecU16(s, "bBf16", sh.needB());
  if (!args.ok()) return info.Env().Undefined();
  const Operand a = sh.a(), b = sh.b(), c = sh.c();
  if (sh.dt == Dt::bf16) {
    auto& a16 = Scratch16(0, sh.needA());
    ConvertToBf16(A, a16.data(), sh.needA());
    const uint16_t* bp = preB16;
    if (bp == nullptr) {
      auto& b16 = Scratch16(1, sh.needB());
      ConvertToBf16(B, b16.data(), sh.needB());
      bp = b16.data();
    }
    if (RowHalvesApply(sh.batch, sh.m, sh.transA, Flops(a, c)))
      RunRowHalves(sh.m, sh.k, sh.n, a16.data(), 2, b, bp, C, sh.dt, sh.acc);
    else
      RunMatmul(a, a16.data(), b, bp, c, C, sh.dt, sh.acc);
  } else if (RowHalvesApply(sh.batch, sh.m, sh.transA, Flops(a, c))) {
    RunRowHalves(sh.m, sh.k, sh.n, A, 4, b, B, C, sh.dt, sh.acc);
  } else {
    RunMatmul(a, A, b, B, c, C, sh.dt, sh.acc);
  }
  return info.Env().Undefined();
}

// ------------------------------------------------------------------------------------ attention
//
// qkv [B, T, 3, H, D] is read in place through strides: q, k and v of head h of token t of
// sequence b start at ((b*T + t)*3 + which)*H*D + h*D. Products run as 4-D batched matmuls
// over (B, H).

struct AttnShape {
  int64_t B, T, H, D;
  bool causal;
  const int32_t* keyStart;
  Dt dt;
};

static AttnShape ReadAttnShape(Args& args, const Napi::Object& s) {
  AttnShape a{};
  a.B = args.SpecSize(s, "batch");
  a.T = args.SpecSize(s, "seq");
  a.H = args.SpecSize(s, "heads");
  a.D = args.SpecSize(s, "headDim");
  a.causal = args.SpecBool(s, "causal");
  a.keyStart = args.SpecI32(s, "keyStart", Elems(a.B));  // one first visible key per sequence
  a.dt = args.SpecIsBf16(s, "dtype") ? Dt::bf16 : Dt::f32;
  return a;
}

// Operand views of the fused projection (which: 0 = q, 1 = k, 2 = v).
static Operand QkvRows(const AttnShape& a) {  // [B, H, T, D]
  return {{a.B, a.H, a.T, a.D}, {a.T * 3 * a.H * a.D, a.D, 3 * a.H * a.D, 1}};
}
static Operand QkvCols(const AttnShape& a) {  // [B, H, D, T]: the transpose, read in place
  return {{a.B, a.H, a.D, a.T}, {a.T * 3 * a.H * a.D, a.D, 1, 3 * a.H * a.D}};
}
static Operand TokenMajor(const AttnShape& a) {  // [B, H, T, D] over a [B, T, H, D] buffer
  return {{a.B, a.H, a.T, a.D}, {a.T * a.H * a.D, a.D, a.H * a.D, 1}};
}
static Operand Scores(const AttnShape& a) {  // [B, H, T, T] dense
  return {{a.B, a.H, a.T, a.T}, {a.H * a.T * a.T, a.T * a.T, a.T, 1}};
}
static Operand ScoresT(const AttnShape& a) {  // its transpose, read in place
  return {{a.B, a.H, a.T, a.T}, {a.H * a.T * a.T, a.T * a.T, 1, a.T}};
}

// Masked, scaled softmax of each score row in place; masked entries become exactly 0.
static void MaskedSoftmax(float* s, const AttnShape& a, float scale) {
  const int64_t rows = a.B * a.H * a.T;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const int64_t i = r % a.T, b = r / (a.H * a.T);
    const int64_t lo = a.keyStart ? a.keyStart[b] : 0;
    const int64_t hi = a.causal ? i + 1 : a.T;  // visible keys: [lo, hi)
    float* row = s + r * a.T;
    if (lo >= hi) {
      for (int64_t j = 0; j < a.T; j++) row[j] = 0.f;
      continue;
    }
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t j = lo; j < hi; j++) mx = std::max(mx, row[j] * scale);
    float sum = 0.f;
    for (int64_t j = lo; j < hi; j++) {
      const float e = std::exp(row[j] * scale - mx);
      row[j] = e;
      sum += e;
    }
    const float inv = 1.f / sum;
    for (int64_t j = 0; j < lo; j++) row[j] = 0.f;
    for (int64_t j = lo; j < hi; j++) row[j] *= inv;
    for (int64_t j = hi; j < a.T; j++) row[j] = 0.f;
  }
}

// Checked arguments of attentionForward(qkv, out, stats, spec) and
// attentionBackward(qkv, stats, dout, dqkv, spec) (dout travels in `out`), shared by the fused
// kernels and the oneDNN ones kept for comparison, which save the probabilities themselves
// ([B, H, T, T] `probs` in place of the [B, H, T, 2] row statistics).
struct AttnArgs {
  Napi::Float32Array qkv, out, saved, dqkv;
  AttnShape shape;
};

static uint64_t QkvElems(const AttnShape& a) { return Elems(a.B * a.T, 3 * a.H, a.D); }
static uint64_t ProbsElems(const AttnShape& a) { return Elems(a.B * a.H, a.T, a.T); }
// Per query row: the max of its scaled scores and 1 / the sum of exp(score - max).
constexpr int64_t kRowStats = 2;
static uint64_t StatsElems(const AttnShape& a) { return Elems(a.B * a.H, a.T, kRowStats); }
static uint64_t OutElems(const AttnShape& a) { return Elems(a.B * a.T, a.H, a.D); }

static bool ForwardArgs(const Napi::CallbackInfo& info, AttnArgs& r, bool probs = false) {
  Args args(info, "attentionForward", 4);
  r.shape = ReadAttnShape(args, args.Spec(3, "spec"));
  args.F32(0, "qkv", QkvElems(r.shape));
  args.F32(1, "out", OutElems(r.shape));
  args.F32(2, probs ? "probs" : "stats", probs ? ProbsElems(r.shape) : StatsElems(r.shape));
  if (!args.ok()) return false;
  r.qkv = info[0].As<Napi::Float32Array>();
  r.out = info[1].As<Napi::Float32Array>();
  r.saved = info[2].As<Napi::Float32Array>();
  return true;
}

static bool BackwardArgs(const Napi::CallbackInfo& info, AttnArgs& r, bool probs = false) {
  Args args(info, "attentionBackward", 5);
  r.shape = ReadAttnShape(args, args.Spec(4, "spec"));
  args.F32(0, "qkv", QkvElems(r.shape));
  args.F32(1, probs ? "probs" : "stats", probs ? ProbsElems(r.shape) : StatsElems(r.shape));
  args.F32(2, "dout", OutElems(r.shape));
  args.F32(3, "dqkv", QkvElems(r.shape));
  if (!args.ok()) return false;
  r.qkv = info[0].As<Napi::Float32Array>();
  r.saved = info[1].As<Napi::Float32Array>();
  r.out = info[2].As<Napi::Float32Array>();
  r.dqkv = info[3].As<Napi::Float32Array>();
  return true;
}

// attentionForwardOnednn(qkv, out, probs, spec): the dense version, for comparison
static Napi::Value AttentionForwardOnednn(const Napi::CallbackInfo& info) {
  AttnArgs A;
  if (!ForwardArgs(info, A, true)) return info.Env().Undefined();
  Napi::Float32Array QKV = A.qkv, OUT = A.out, P = A.saved;
  const AttnShape& a = A.shape;
  const int64_t HD = a.H * a.D;
  const size_t nq = a.B * a.T * 3 * HD, np = a.B * a.H * a.T * a.T;
  const float scale = 1.f / std::sqrt(static_cast<float>(a.D));
  Operand q = QkvRows(a), kT = QkvCols(a), v = QkvRows(a);
  if (a.dt == Dt::bf16) {
    auto& qkv16 = Scratch16(0, nq);
    ConvertToBf16(QKV.Data(), qkv16.data(), nq);
    RunMatmul(q, qkv16.data(), kT, qkv16.data() + HD, Scores(a), P.Data(), a.dt, false);
    MaskedSoftmax(P.Data(), a, scale);
    auto& p16 = Scratch16(1, np);
    ConvertToBf16(P.Data(), p16.data(), np);
    RunMatmul(Scores(a), p16.data(), v, qkv16.data() + 2 * HD, TokenMajor(a), OUT.Data(), a.dt,
              false);
  } else {
    const float* base = QKV.Data();
    RunMatmul(q, base, kT, base + HD, Scores(a), P.Data(), a.dt, false);
    MaskedSoftmax(P.Data(), a, scale);
    RunMatmul(Scores(a), P.Data(), v, base + 2 * HD, TokenMajor(a), OUT.Data(), a.dt, false);
  }
  return info.Env().Undefined();
}

// attentionBackwardOnednn(qkv, probs, dout, dqkv, spec): accumulates into dqkv.
//   dP = dO V^T;  dS = P * (dP - rowsum(P * dP)) * scale
//   dV += P^T dO;  dQ += dS K;  dK += dS^T Q
static Napi::Value AttentionBackwardOnednn(const Napi::CallbackInfo& info) {
  AttnArgs A;
  if (!BackwardArgs(info, A, true)) return info.Env().Undefined();
  Napi::Float32Array QKV = A.qkv, P = A.saved, DOUT = A.out, DQKV = A.dqkv;
  const AttnShape& a = A.shape;
  const int64_t HD = a.H * a.D;
  const size_t nq = a.B * a.T * 3 * HD, np = a.B * a.H * a.T * a.T, no = a.B * a.T * HD;
  const float scale = 1.f / std::sqrt(static_cast<float>(a.D));
  auto& dS = Scratch32(np);
  Operand qRows = QkvRows(a), cols = QkvCols(a);
  Operand dO = TokenMajor(a);
  const bool bf = a.dt == Dt::bf16;
  const void *qkvp, *dop, *pp;
  if (bf) {
    auto& qkv16 = Scratch16(0, nq);
    auto& do16 = Scratch16(2, no);
    auto& p16 = Scratch16(1, np);
    ConvertToBf16(QKV.Data(), qkv16.data(), nq);
    ConvertToBf16(DOUT.Data(), do16.data(), no);
    ConvertToBf16(P.Data(), p16.data(), np);
    qkvp = qkv16.data();
    dop = do16.data();
    pp = p16.data();
  } else {
    qkvp = QKV.Data();
    dop = DOUT.Data();
    pp = P.Data();
  }
  const size_t esz = bf ? 2 : 4;
  auto at = [&](const void* base, int64_t off) {
    return static_cast<const char*>(base) + off * esz;
  };
  float* dq = DQKV.Data();
  // dP = dO · V^T  -> dS scratch
  RunMatmul(dO, dop, cols, at(qkvp, 2 * HD), Scores(a), dS.data(), a.dt, false);
  // dV += P^T · dO
  RunMatmul(ScoresT(a), pp, dO, dop, qRows, dq + 2 * HD, a.dt, true);
  // dS = P * (dP - rowsum(P*dP)) * scale
  const float* p = P.Data();
  const int64_t rows = a.B * a.H * a.T;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    float* d = dS.data() + r * a.T;
    const float* pr = p + r * a.T;
    float dot = 0.f;
    for (int64_t j = 0; j < a.T; j++) dot += pr[j] * d[j];
    for (int64_t j = 0; j < a.T; j++) d[j] = pr[j] * (d[j] - dot) * scale;
  }
  const void* dsp = dS.data();
  if (bf) {
    auto& ds16 = Scratch16(1, np);  // P's bf16 copy is no longer needed
    ConvertToBf16(dS.data(), ds16.data(), np);
    dsp = ds16.data();
  }
  // dQ += dS · K ; dK += dS^T · Q
  RunMatmul(Scores(a), dsp, qRows, at(qkvp, HD), qRows, dq, a.dt, true);
  RunMatmul(ScoresT(a), dsp, qRows, qkvp, qRows, dq + HD, a.dt, true);
  return info.Env().Undefined();
}

// ------------------------------------------------------------------------------------ fused attention
//
// The kernels the engine uses. One task per (sequence, head): its K, V (and Q, dO) slices are
// copied once into small thread-local buffers (transposed where that makes the inner loop
// contiguous), and every score row is computed, normalised and applied while it is in L1. Only
// the visible keys of each row are touched, so causal attention does about half the work of the
// dense batched products above (which compute the full T x T square and then mask it). On the
// bench model (T = 160, head dim 32) the dense version ran 1152 tiny strided GEMMs per call.
// Under bf16 the inputs (and P, dS before their products) are rounded to bf16 and all products
// accumulate in f32: the same numbers the bf16 matmuls see.

static inline float RoundBf16(float x) { return Bf16ToF32(F32ToBf16(x)); }

// The softmax-row pieces every attention kernel here shares (row and blocked kernels must give
// the same bits, so they run the very same operations): the forward's scaled scores to
// exponentials and the row statistics, the backward's recompute of P from them, and dS.

// s[lo, hi): raw scores in, exp(s * scale - max) out; st = (max, 1 / sum); returns 1 / sum.
// Scaled here, not in the score product (s * scale - max contracts to an FMA).
static inline float SoftmaxRowStats(float* s, int64_t lo, int64_t hi, float scale, float* st) {
  float mx = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : mx)
  for (int64_t j = lo; j < hi; j++) mx = std::max(mx, s[j] * scale);
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = lo; j < hi; j++) {
    s[j] = ExpF(s[j] * scale - mx);
    sum += s[j];
  }
  const float inv = 1.f / sum;
  st[0] = mx;
  st[1] = inv;
  return inv;
}

// p[lo, hi): raw scores in, the forward's probabilities out (from its row statistics st).
static inline void RecomputeProbRow(float* p, int64_t lo, int64_t hi, float scale,
                                    const float* st) {
  const float mx = st[0], inv = st[1];
#pragma omp simd
  for (int64_t j = lo; j < hi; j++) p[j] = ExpF(p[j] * scale - mx);
#pragma omp simd
  for (int64_t j = lo; j < hi; j++) p[j] *= inv;
}

// dS row: P * (dP - rowsum(P * dP)) * scale over [lo, hi), bf16-rounded when BF.
template <bool BF>
static inline void SoftmaxGradRow(const float* p, const float* dp, float* ds, int64_t lo,
                                  int64_t hi, float scale) {
  float rowDot = 0.f;
#pragma omp simd reduction(+ : rowDot)
  for (int64_t j = lo; j < hi; j++) rowDot += p[j] * dp[j];
#pragma omp simd
  for (int64_t j = lo; j < hi; j++) {
    const float g = p[j] * (dp[j] - rowDot) * scale;
    ds[j] = BF ? RoundBf16(g) : g;
  }
}

// DC: the head dim known at compile time (the inner loops then become a few unrolled vector
// ops), or 0 for any head dim. BF: bf16 rounding, a template parameter so the inner loops carry
// no branch and vectorise.
template <int DC, bool BF>
static void FusedForward(const float* qkv, float* out, float* stats, const AttnShape& a) {
  const int64_t T = a.T, H = a.H, D = DC ? DC : a.D, HD = H * D;
  constexpr bool bf = BF;
  const float scale = 1.f / std::sqrt(static_cast<float>(D));
  const double work = 4.0 * a.B * H * T * T * D;
#pragma omp parallel if (work >= SerialFlops())
  {
    std::vector<float> kT(D * T), v(T * D), srow(T), q(D), o(D);
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < a.B * H; bh++) {
      const int64_t b = bh / H, h = bh % H;
      const int64_t lo = a.keyStart ? std::max<int64_t>(0, a.keyStart[b]) : 0;
      const float* base = qkv + b * T * 3 * HD;
      for (int64_t j = lo; j < T; j++) {
        const float* kj = base + j * 3 * HD + HD + h * D;
        const float* vj = base + j * 3 * HD + 2 * HD + h * D;
        for (int64_t d = 0; d < D; d++) {
          kT[d * T + j] = bf ? RoundBf16(kj[d]) : kj[d];
          v[j * D + d] = bf ? RoundBf16(vj[d]) : vj[d];
        }
      }
      for (int64_t i = 0; i < T; i++) {
        const int64_t hi = a.causal ? i + 1 : T;  // visible keys: [lo, hi)
        float* st = stats + (bh * T + i) * kRowStats;
        float* orow = out + ((b * T + i) * H + h) * D;
        if (lo >= hi) {
          st[0] = st[1] = 0.f;
          std::fill(orow, orow + D, 0.f);
          continue;
        }
        const float* qi = base + i * 3 * HD + h * D;
        for (int64_t d = 0; d < D; d++) q[d] = bf ? RoundBf16(qi[d]) : qi[d];
        float* s = srow.data();
        for (int64_t j = lo; j < hi; j++) s[j] = 0.f;
        for (int64_t d = 0; d < D; d++) {
          const float qd = q[d];
          const float* kd = kT.data() + d * T;
#pragma omp simd
          for (int64_t j = lo; j < hi; j++) s[j] += qd * kd[j];
        }
        const float inv = SoftmaxRowStats(s, lo, hi, scale, st);
#pragma omp simd
        for (int64_t j = lo; j < hi; j++) s[j] *= inv;
        for (int64_t d = 0; d < D; d++) o[d] = 0.f;
        for (int64_t j = lo; j < hi; j++) {
          const float p = bf ? RoundBf16(s[j]) : s[j];
          const float* vj = v.data() + j * D;
#pragma omp simd
          for (int64_t d = 0; d < D; d++) o[d] += p * vj[d];
        }
        for (int64_t d = 0; d < D; d++) orow[d] = o[d];
      }
    }
  }
}

// dP = dO V^T; dS = P * (dP - rowsum(P * dP)) * scale; dV += P^T dO; dQ += dS K; dK += dS^T Q.
// Two passes per (sequence, head), each shaped so the accumulator stays in registers (rank-1
// updates of dK and dV rows per (i, j) pair were load/store bound, slower than the dense GEMMs):
//   rows i:    P row (recomputed from q, k and the forward's row statistics: the same
//              operations in the same order, so the same bits as the forward's), dP row, dS row
//              (P and dS kept in local T x T buffers), dQ_i = sum_j dS_ij K_j;
//   columns j: dV_j = sum_i P_ij dO_i and dK_j = sum_i dS_ij Q_i over the rows that see key j.
// Recomputing P costs one more QK^T product but no [B, H, T, T] array is written, kept in
// memory until backward, and read back (118 MB per layer on the bench step).
// A task owns its head's slices of dqkv, so it accumulates into them without races.
template <int DC, bool BF>
static void FusedBackward(const float* qkv, const float* stats, const float* dout, float* dqkv,
                          const AttnShape& a) {
  const int64_t T = a.T, H = a.H, D = DC ? DC : a.D, HD = H * D;
  constexpr bool bf = BF;
  const float scale = 1.f / std::sqrt(static_cast<float>(D));
  const double work = 8.0 * a.B * H * T * T * D;
#pragma omp parallel if (work >= SerialFlops())
  {
    std::vector<float> q(T * D), k(T * D), kT(D * T), vT(D * T), dO(T * D), Pl(T * T), dS(T * T),
        dp(T), acc(2 * D);
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < a.B * H; bh++) {
      const int64_t b = bh / H, h = bh % H;
      const int64_t lo = a.keyStart ? std::max<int64_t>(0, a.keyStart[b]) : 0;
      if (lo >= T) continue;  // every query sees nothing: no gradient
      const float* base = qkv + b * T * 3 * HD;
      const float* P = Pl.data();
      for (int64_t t = 0; t < T; t++) {
        const float* qt = base + t * 3 * HD + h * D;
        const float* dot = dout + ((b * T + t) * H + h) * D;
        for (int64_t d = 0; d < D; d++) {
          q[t * D + d] = bf ? RoundBf16(qt[d]) : qt[d];
          k[t * D + d] = bf ? RoundBf16(qt[HD + d]) : qt[HD + d];
          kT[d * T + t] = k[t * D + d];
          vT[d * T + t] = bf ? RoundBf16(qt[2 * HD + d]) : qt[2 * HD + d];
          dO[t * D + d] = bf ? RoundBf16(dot[d]) : dot[d];
        }
      }
      // Pass 1, rows.
      for (int64_t i = 0; i < T; i++) {
        const int64_t hi = a.causal ? i + 1 : T;  // visible keys [lo, hi)
        if (lo >= hi) continue;
        // P row as FusedForward computed it
        float* pw = Pl.data() + i * T;
        for (int64_t j = lo; j < hi; j++) pw[j] = 0.f;
        for (int64_t d = 0; d < D; d++) {
          const float qd = q[i * D + d];
          const float* kd = kT.data() + d * T;
#pragma omp simd
          for (int64_t j = lo; j < hi; j++) pw[j] += qd * kd[j];
        }
        RecomputeProbRow(pw, lo, hi, scale, stats + (bh * T + i) * kRowStats);
        const float* prow = pw;
        const float* doi = dO.data() + i * D;
        for (int64_t j = lo; j < hi; j++) dp[j] = 0.f;
        for (int64_t d = 0; d < D; d++) {
          const float g = doi[d];
          const float* vd = vT.data() + d * T;
#pragma omp simd
          for (int64_t j = lo; j < hi; j++) dp[j] += g * vd[j];
        }
        float* dsr = dS.data() + i * T;
        SoftmaxGradRow<BF>(prow, dp.data(), dsr, lo, hi, scale);
        float* dq = acc.data();
        for (int64_t d = 0; d < D; d++) dq[d] = 0.f;
        for (int64_t j = lo; j < hi; j++) {
          const float ds = dsr[j];
          const float* kj = k.data() + j * D;
#pragma omp simd
          for (int64_t d = 0; d < D; d++) dq[d] += ds * kj[d];
        }
        float* dqi = dqkv + (b * T + i) * 3 * HD + h * D;
        for (int64_t d = 0; d < D; d++) dqi[d] += dq[d];
      }
      // Pass 2, columns: key j (>= lo) is seen by rows [j, T) if causal, else by every row.
      for (int64_t j = lo; j < T; j++) {
        float* dv = acc.data();
        float* dk = acc.data() + D;
        for (int64_t d = 0; d < 2 * D; d++) acc[d] = 0.f;
        for (int64_t i = a.causal ? j : 0; i < T; i++) {
          const float p = bf ? RoundBf16(P[i * T + j]) : P[i * T + j];
          const float ds = dS[i * T + j];
          const float* doi = dO.data() + i * D;
          const float* qi = q.data() + i * D;
#pragma omp simd
          for (int64_t d = 0; d < D; d++) {
            dv[d] += p * doi[d];
            dk[d] += ds * qi[d];
          }
        }
        float* row = dqkv + (b * T + j) * 3 * HD + h * D;
        for (int64_t d = 0; d < D; d++) {
          row[HD + d] += dk[d];
          row[2 * HD + d] += dv[d];
        }
      }
    }
  }
}

// ------------------------------------------------------------------------------------ blocked attention
//
// FusedForward/FusedBackward for head dims 32 and 64 (every model config here) with AVX-512:
// R query rows at a time, so each key, value, query or output-gradient vector loaded feeds the
// accumulators of R rows (or 8 head-dim columns), all held in 16 zmm registers, instead of one
// row's score buffer being re-read and re-written once per head-dim element. Every output element
// is summed over the same terms in the same order as in FusedForward/FusedBackward (the extra
// terms a block adds past a row's last visible key are exact zeros), so the results are the
// same bits, tested against them.
// Whether the blocked kernels are used where they apply (default); the addon's
// setBlockedAttention(false) selects FusedForward/FusedBackward, so tests can compare them.
static bool& BlockedAttentionSetting() {
  static bool on = true;
  return on;
}
[[maybe_unused]] static bool BlockedAttention() { return BlockedAttentionSetting(); }

#ifdef __AVX512F__
constexpr int64_t kKeyChunk = 32;  // keys per score tile: two zmm of 16 lanes

template <int DC>
constexpr int RowBlock() {
  return DC == 32 ? 8 : 4;  // rows x DC/16 zmm = 16 accumulators
}

// s[r * ld + jc + jj] = sum_d q[r][d] * kT[d][jc + jj] for r < R, jj < 32.
template <int R, int DC>
static inline void ScoreTile(const float* q, const float* kT, int64_t ld, int64_t jc, float* s) {
  __m512 a0[R], a1[R];
  for (int r = 0; r < R; r++) a0[r] = a1[r] = _mm512_setzero_ps();
  for (int d = 0; d < DC; d++) {
    const __m512 k0 = _mm512_loadu_ps(kT + d * ld + jc);
    const __m512 k1 = _mm512_loadu_ps(kT + d * ld + jc + 16);
    for (int r = 0; r < R; r++) {
      const __m512 qv = _mm512_set1_ps(q[r * DC + d]);
      a0[r] = _mm512_fmadd_ps(qv, k0, a0[r]);
      a1[r] = _mm512_fmadd_ps(qv, k1, a1[r]);
    }
  }
  for (int r = 0; r < R; r++) {
    _mm512_storeu_ps(s + r * ld + jc, a0[r]);
    _mm512_storeu_ps(s + r * ld + jc + 16, a1[r]);
  }
}

// out[r][:] (+)= sum_{j in [lo, hi)} w[r * ld + j] * x[j][:] for r < R; x rows of DC floats.
template <int R, int DC>
static inline void WeightedRows(const float* w, int64_t ld, const float* x, int64_t lo, int64_t hi,
                                float* out, bool accumulate) {
  constexpr int V = DC / 16;
  __m512 acc[R][V];
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) acc[r][v] = _mm512_setzero_ps();
  for (int64_t j = lo; j < hi; j++) {
    __m512 xv[V];
    for (int v = 0; v < V; v++) xv[v] = _mm512_loadu_ps(x + j * DC + 16 * v);
    for (int r = 0; r < R; r++) {
      const __m512 wv = _mm512_set1_ps(w[r * ld + j]);
      for (int v = 0; v < V; v++) acc[r][v] = _mm512_fmadd_ps(wv, xv[v], acc[r][v]);
    }
  }
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) {
      float* o = out + r * DC + 16 * v;
      _mm512_storeu_ps(o, accumulate ? _mm512_add_ps(_mm512_loadu_ps(o), acc[r][v]) : acc[r][v]);
    }
}

// acc[dd][jj] = sum_{i in [i0, i1)} y[i][d0 + dd] * panel[i][jj] for dd < 8, jj < 32: one 32-key
// column chunk of dV^T (y = dO, panel = P) or dK^T (y = Q, panel = dS).
template <int DC>
static inline void ColumnTile(const float* y, const float* panel, int64_t i0, int64_t i1, int d0,
                              float* acc) {
  __m512 a0[8], a1[8];
  for (int dd = 0; dd < 8; dd++) a0[dd] = a1[dd] = _mm512_setzero_ps();
  for (int64_t i = i0; i < i1; i++) {
    const __m512 p0 = _mm512_loadu_ps(panel + i * kKeyChunk);
    const __m512 p1 = _mm512_loadu_ps(panel + i * kKeyChunk + 16);
    for (int dd = 0; dd < 8; dd++) {
      const __m512 g = _mm512_set1_ps(y[i * DC + d0 + dd]);
      a0[dd] = _mm512_fmadd_ps(p0, g, a0[dd]);
      a1[dd] = _mm512_fmadd_ps(p1, g, a1[dd]);
    }
  }
  for (int dd = 0; dd < 8; dd++) {
    _mm512_storeu_ps(acc + dd * kKeyChunk, a0[dd]);
    _mm512_storeu_ps(acc + dd * kKeyChunk + 16, a1[dd]);
  }
}

static inline int64_t ChunkFloor(int64_t j) { return j - j % kKeyChunk; }
static inline int64_t ChunkCeil(int64_t n) { return (n + kKeyChunk - 1) / kKeyChunk * kKeyChunk; }

template <int DC, bool BF>
static void BlockedForward(const float* qkv, float* out, float* stats, const AttnShape& a) {
  constexpr int R = RowBlock<DC>();
  constexpr int64_t D = DC;
  const int64_t T = a.T, H = a.H, HD = H * D, Tp = ChunkCeil(T);
  const float scale = 1.f / std::sqrt(static_cast<float>(D));
  const double work = 4.0 * a.B * H * T * T * D;
#pragma omp parallel if (work >= ExactSerialFlops())
  {
    // zero-initialised: the padding past T is read by the last score tile (and masked)
    std::vector<float> kT(D * Tp), v(Tp * D), q(R * D), s(R * Tp), pr(R * Tp), o(R * D);
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < a.B * H; bh++) {
      const int64_t b = bh / H, h = bh % H;
      const int64_t lo = a.keyStart ? std::max<int64_t>(0, a.keyStart[b]) : 0;
      const float* base = qkv + b * T * 3 * HD;
      for (int64_t j = lo; j < T; j++) {
        const float* kj = base + j * 3 * HD + HD + h * D;
        const float* vj = base + j * 3 * HD + 2 * HD + h * D;
        for (int64_t d = 0; d < D; d++) {
          kT[d * Tp + j] = BF ? RoundBf16(kj[d]) : kj[d];
          v[j * D + d] = BF ? RoundBf16(vj[d]) : vj[d];
        }
      }
      for (int64_t i0 = 0; i0 < T; i0 += R) {
        const int64_t rows = std::min<int64_t>(R, T - i0);
        const int64_t hiMax = a.causal ? i0 + rows : T;  // keys the block's last row sees
        for (int64_t r = 0; r < R; r++) {
          const float* qi = base + (i0 + std::min(r, rows - 1)) * 3 * HD + h * D;
          for (int64_t d = 0; d < D; d++) q[r * D + d] = BF ? RoundBf16(qi[d]) : qi[d];
        }
        if (lo < hiMax)
          for (int64_t jc = ChunkFloor(lo); jc < hiMax; jc += kKeyChunk)
            ScoreTile<R, DC>(q.data(), kT.data(), Tp, jc, s.data());
        for (int64_t r = 0; r < rows; r++) {
          const int64_t i = i0 + r;
          const int64_t hi = a.causal ? i + 1 : T;  // visible keys: [lo, hi)
          float* st = stats + (bh * T + i) * kRowStats;
          float* sr = s.data() + r * Tp;
          float* pw = pr.data() + r * Tp;
          if (lo >= hi) {
            st[0] = st[1] = 0.f;
            if (lo < hiMax) std::fill(pw + lo, pw + hiMax, 0.f);
            continue;
          }
          const float inv = SoftmaxRowStats(sr, lo, hi, scale, st);
#pragma omp simd
          for (int64_t j = lo; j < hi; j++) {
            sr[j] *= inv;
            pw[j] = BF ? RoundBf16(sr[j]) : sr[j];
          }
          std::fill(pw + hi, pw + hiMax, 0.f);  // the block's extra keys: exact zeros
        }
        for (int64_t r = rows; r < R; r++)
          if (lo < hiMax) std::fill(pr.data() + r * Tp + lo, pr.data() + r * Tp + hiMax, 0.f);
        if (lo < hiMax) WeightedRows<R, DC>(pr.data(), Tp, v.data(), lo, hiMax, o.data(), false);
        for (int64_t r = 0; r < rows; r++) {
          const int64_t i = i0 + r;
          float* orow = out + ((b * T + i) * H + h) * D;
          const bool sees = lo < (a.causal ? i + 1 : T);
          for (int64_t d = 0; d < D; d++) orow[d] = sees ? o[r * D + d] : 0.f;
        }
      }
    }
  }
}

template <int DC, bool BF>
static void BlockedBackward(const float* qkv, const float* stats, const float* dout, float* dqkv,
                            const AttnShape& a) {
  constexpr int R = RowBlock<DC>();
  constexpr int64_t D = DC;
  const int64_t T = a.T, H = a.H, HD = H * D, Tp = ChunkCeil(T);
  const float scale = 1.f / std::sqrt(static_cast<float>(D));
  const double work = 8.0 * a.B * H * T * T * D;
#pragma omp parallel if (work >= ExactSerialFlops())
  {
    std::vector<float> q(R * D + T * D), k(T * D), kT(D * Tp), vT(D * Tp), dO(R * D + T * D),
        Pl(T * Tp), dS(T * Tp), dp(R * Tp), dq(R * D), pP(T * kKeyChunk), pS(T * kKeyChunk),
        acc(8 * kKeyChunk);
    // [T][D]; the first R*D floats of q and dO: one block's padded rows
    float* qAll = q.data() + R * D;
    float* dOall = dO.data() + R * D;
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < a.B * H; bh++) {
      const int64_t b = bh / H, h = bh % H;
      const int64_t lo = a.keyStart ? std::max<int64_t>(0, a.keyStart[b]) : 0;
      if (lo >= T) continue;  // every query sees nothing: no gradient
      const float* base = qkv + b * T * 3 * HD;
      for (int64_t t = 0; t < T; t++) {
        const float* qt = base + t * 3 * HD + h * D;
        const float* dot = dout + ((b * T + t) * H + h) * D;
        for (int64_t d = 0; d < D; d++) {
          qAll[t * D + d] = BF ? RoundBf16(qt[d]) : qt[d];
          k[t * D + d] = BF ? RoundBf16(qt[HD + d]) : qt[HD + d];
          kT[d * Tp + t] = k[t * D + d];
          vT[d * Tp + t] = BF ? RoundBf16(qt[2 * HD + d]) : qt[2 * HD + d];
          dOall[t * D + d] = BF ? RoundBf16(dot[d]) : dot[d];
        }
      }
      // Pass 1, row blocks: P rows (recomputed as BlockedForward computed them), dP tile, dS
      // rows, dQ.
      for (int64_t i0 = 0; i0 < T; i0 += R) {
        const int64_t rows = std::min<int64_t>(R, T - i0);
        const int64_t hiMax = a.causal ? i0 + rows : T;
        if (lo >= hiMax) continue;
        const float* qb = qAll + i0 * D;
        const float* dOb = dOall + i0 * D;
        if (rows < R) {  // a short last block reads padded rows (as the forward's, the last row)
          for (int64_t r = 0; r < R; r++) {
            const int64_t src = std::min<int64_t>(r, rows - 1);
            std::copy(qb + src * D, qb + src * D + D, q.data() + r * D);
            if (r < rows) std::copy(dOb + r * D, dOb + r * D + D, dO.data() + r * D);
            else std::fill(dO.data() + r * D, dO.data() + r * D + D, 0.f);
          }
          qb = q.data();
          dOb = dO.data();
        }
        for (int64_t jc = ChunkFloor(lo); jc < hiMax; jc += kKeyChunk) {
          ScoreTile<R, DC>(qb, kT.data(), Tp, jc, dp.data());  // scores, into dp for now
          for (int64_t r = 0; r < rows; r++) {
            const float* sr = dp.data() + r * Tp;
            std::copy(sr + jc, sr + jc + kKeyChunk, Pl.data() + (i0 + r) * Tp + jc);
          }
        }
        for (int64_t r = 0; r < rows; r++) {
          const int64_t i = i0 + r;
          const int64_t hi = a.causal ? i + 1 : T;
          if (lo >= hi) continue;
          RecomputeProbRow(Pl.data() + i * Tp, lo, hi, scale, stats + (bh * T + i) * kRowStats);
        }
        for (int64_t jc = ChunkFloor(lo); jc < hiMax; jc += kKeyChunk)
          ScoreTile<R, DC>(dOb, vT.data(), Tp, jc, dp.data());
        for (int64_t r = 0; r < rows; r++) {
          const int64_t i = i0 + r;
          float* dsr = dS.data() + i * Tp;
          const int64_t hi = a.causal ? i + 1 : T;
          const float* prow = Pl.data() + i * Tp;
          const float* dpr = dp.data() + r * Tp;
          if (lo >= hi) {
            std::fill(dsr + lo, dsr + hiMax, 0.f);
            continue;
          }
          SoftmaxGradRow<BF>(prow, dpr, dsr, lo, hi, scale);
          std::fill(dsr + hi, dsr + hiMax, 0.f);
        }
        // dQ rows of the block: dS rows are i0.. (the dS buffer's rows), padded rows give zeros
        // that are not written back.
        if (rows == R) {
          WeightedRows<R, DC>(dS.data() + i0 * Tp, Tp, k.data(), lo, hiMax, dq.data(), false);
        } else {
          for (int64_t r = 0; r < rows; r++)
            WeightedRows<1, DC>(dS.data() + (i0 + r) * Tp, Tp, k.data(), lo, hiMax,
                                dq.data() + r * D, false);
        }
        for (int64_t r = 0; r < rows; r++) {
          const int64_t i = i0 + r;
          if (lo >= (a.causal ? i + 1 : T)) continue;
          float* dqi = dqkv + (b * T + i) * 3 * HD + h * D;
          for (int64_t d = 0; d < D; d++) dqi[d] += dq[r * D + d];
        }
      }
      // Pass 2, 32-key column chunks: dV_j = sum_i P_ij dO_i, dK_j = sum_i dS_ij Q_i over the
      // rows that see key j (causal: i >= j; the panel is zero where i < j).
      for (int64_t jc = ChunkFloor(lo); jc < T; jc += kKeyChunk) {
        const int64_t i0 = a.causal ? jc : 0;
        for (int64_t i = i0; i < T; i++) {
          const float* prow = Pl.data() + i * Tp;
          const float* srow = dS.data() + i * Tp;
          float* pp = pP.data() + i * kKeyChunk;
          float* ps = pS.data() + i * kKeyChunk;
          const int64_t hiRow = a.causal ? std::min(i + 1, T) : T;  // keys this row sees: < hiRow
          for (int64_t jj = 0; jj < kKeyChunk; jj++) {
            const int64_t j = jc + jj;
            const bool seen = j >= lo && j < hiRow;
            pp[jj] = seen ? (BF ? RoundBf16(prow[j]) : prow[j]) : 0.f;
            ps[jj] = seen ? srow[j] : 0.f;
          }
        }
        for (int d0 = 0; d0 < DC; d0 += 8) {
          for (int which = 0; which < 2; which++) {  // 0: dV from (dO, P); 1: dK from (Q, dS)
            ColumnTile<DC>(which ? qAll : dOall, which ? pS.data() : pP.data(), i0, T, d0,
                           acc.data());
            const int64_t off = which ? HD : 2 * HD;
            for (int64_t jj = 0; jj < kKeyChunk; jj++) {
              const int64_t j = jc + jj;
              if (j < lo || j >= T) continue;
              float* row = dqkv + (b * T + j) * 3 * HD + off + h * D + d0;
              for (int dd = 0; dd < 8; dd++) row[dd] += acc[dd * kKeyChunk + jj];
            }
          }
        }
      }
    }
  }
}
#endif  // __AVX512F__

// attentionForward(qkv, out, stats, spec)
static Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  AttnArgs A;
  if (!ForwardArgs(info, A)) return info.Env().Undefined();
  Napi::Float32Array QKV = A.qkv, OUT = A.out, STATS = A.saved;
  const AttnShape& a = A.shape;
  const bool bf = a.dt == Dt::bf16;
  auto run = [&](auto fn) { fn(QKV.Data(), OUT.Data(), STATS.Data(), a); };
#ifdef __AVX512F__
  if (a.D == 32 && BlockedAttention())
    bf ? run(BlockedForward<32, true>) : run(BlockedForward<32, false>);
  else if (a.D == 64 && BlockedAttention())
    bf ? run(BlockedForward<64, true>) : run(BlockedForward<64, false>);
  else
#endif
  if (a.D == 32) bf ? run(FusedForward<32, true>) : run(FusedForward<32, false>);
  else if (a.D == 64) bf ? run(FusedForward<64, true>) : run(FusedForward<64, false>);
  else bf ? run(FusedForward<0, true>) : run(FusedForward<0, false>);
  return info.Env().Undefined();
}

// attentionBackward(qkv, stats, dout, dqkv, spec): accumulates into dqkv.
static Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  AttnArgs A;
  if (!BackwardArgs(info, A)) return info.Env().Undefined();
  Napi::Float32Array QKV = A.qkv, STATS = A.saved, DOUT = A.out, DQKV = A.dqkv;
  const AttnShape& a = A.shape;
  const bool bf = a.dt == Dt::bf16;
  auto run = [&](auto fn) { fn(QKV.Data(), STATS.Data(), DOUT.Data(), DQKV.Data(), a); };
#ifdef __AVX512F__
  if (a.D == 32 && BlockedAttention())
    bf ? run(BlockedBackward<32, true>) : run(BlockedBackward<32, false>);
  else if (a.D == 64 && BlockedAttention())
    bf ? run(BlockedBackward<64, true>) : run(BlockedBackward<64, false>);
  else
#endif
  if (a.D == 32) bf ? run(FusedBackward<32, true>) : run(FusedBackward<32, false>);
  else if (a.D == 64) bf ? run(FusedBackward<64, true>) : run(FusedBackward<64, false>);
  else bf ? run(FusedBackward<0, true>) : run(FusedBackward<0, false>);
  return info.Env().Undefined();
}

// matmulImpl(spec): the oneDNN implementation chosen for a product (for the profiler/bench).
static Napi::Value MatmulImpl(const Napi::CallbackInfo& info) {
  Args args(info, "matmulImpl", 1);
  const MatmulShape sh = ReadMatmulShape(args, args.Spec(0, "spec"));
  if (!args.ok()) return info.Env().Undefined();
  return Napi::String::New(info.Env(), GetMatmul(sh.a(), sh.b(), sh.c(), sh.dt, sh.acc).impl);
}

// setBlockedAttention(on): the blocked (AVX-512) attention kernels where they apply, or not.
static Napi::Value SetBlockedAttention(const Napi::CallbackInfo& info) {
  Args args(info, "setBlockedAttention", 1);
  const bool on = args.Boolean(0, "on");
  if (args.ok()) BlockedAttentionSetting() = on;
  return info.Env().Undefined();
}

static Napi::Value AttentionImpl(const Napi::CallbackInfo& info) {
  Args args(info, "attentionImpl", 1);
  AttnShape a = ReadAttnShape(args, args.Spec(0, "spec"));
  if (!args.ok()) return info.Env().Undefined();
  return Napi::String::New(
      info.Env(), GetMatmul(QkvRows(a), QkvCols(a), Scores(a), a.dt, false).impl + " / " +
                      GetMatmul(ScoresT(a), TokenMajor(a), QkvRows(a), a.dt, true).impl);
}

// setSerialFlops(n): change the one-thread bar at run time (benchmarks compare settings in one
// process; the machine is too noisy to compare separate runs).
static Napi::Value SetSerialFlops(const Napi::CallbackInfo& info) {
  Args args(info, "setSerialFlops", 1);
  const double flops = args.Number(0, "flops");
  if (!args.ok()) return info.Env().Undefined();
  SerialFlopsSetting() = flops;
  return info.Env().Undefined();
}

void RegisterLinalg(Napi::Env env, Napi::Object exports) {
  exports.Set("setSerialFlops", Napi::Function::New(env, SetSerialFlops));
  exports.Set("matmul", Napi::Function::New(env, Guarded<Matmul>));
  exports.Set("attentionForward", Napi::Function::New(env, Guarded<AttentionForward>));
  exports.Set("attentionBackward", Napi::Function::New(env, Guarded<AttentionBackward>));
  // The dense oneDNN versions, kept for comparison (tests, benchmarks); not in Kernels.
  exports.Set("attentionForwardOnednn", Napi::Function::New(env, Guarded<AttentionForwardOnednn>));
  exports.Set("attentionBackwardOnednn", Napi::Function::New(env, Guarded<AttentionBackwardOnednn>));
  exports.Set("matmulImpl", Napi::Function::New(env, Guarded<MatmulImpl>));
  exports.Set("attentionImpl", Napi::Function::New(env, Guarded<AttentionImpl>));
  exports.Set("setBlockedAttention", Napi::Function::New(env, Guarded<SetBlockedAttention>));
}

}  // namespace visurf
