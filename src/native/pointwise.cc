// Fused pointwise / normalisation / log-prob / optimizer kernels (OpenMP over both cores).
//
// Every function here takes exactly the positional arguments of the matching method of the
// Kernels interface (src/engine/kernels/types.ts), so native.ts forwards to them unchanged; the
// TypeScript reference (src/engine/kernels/reference/pointwise.ts) is the specification.
//
// Conventions:
// - Forward kernels overwrite their outputs; backward kernels ACCUMULATE (+=) into gradients.
// - Rows are split statically over the OpenMP threads (deterministic results for a given thread
//   count). Small calls stay on one thread: a parallel region costs a few microseconds, more
//   than a tiny kernel itself.
// - Inner loops are plain loops over contiguous floats that g++ -O3 -march=native vectorises
//   (AVX-512 here); float reductions carry `#pragma omp simd reduction` because without
//   -ffast-math the compiler may not reorder a float sum by itself.
// - Arguments are checked before any memory is touched: every typed array must have the right
//   element type and at least as many elements as the sizes imply, indices (ids, targets) must be
//   in range. A bad call throws a JS TypeError/RangeError naming the kernel; it never reads or
//   writes out of bounds. Numeric values (NaN, Inf) never throw; they propagate.
#include "addon.h"
#include "args.h"
#include "expf.h"
#include "threads.h"

#include <omp.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace visurf {
namespace {

// Below this many elements of work a kernel runs on one thread (threads.h): a rollout's decode
// step (128 rows of width 256..1408: 32k-180k elements) stays on one thread while the cores are
// shared, where a fork-join can wait a scheduler time slice for the second thread, far longer
// than the kernel (measured: rmsnorm of 128x256 averaged 3.6 ms per call with 2 threads under
// load). Kernels that compute each output whole use ExactParallelElements: both threads from
// 2^14 elements on idle cores (rope, swiglu, add, mul; rmsnorm measured slower on two threads at
// a decode step's 32k elements, so it keeps the fixed bar). Reductions over elements (sums) keep the fixed bar, so that their
// result never depends on the machine's load.
constexpr int64_t kParallelWork = kSerialElements;
// Pure streaming kernels (add, axpy, casts...) do ~1 flop per element: the same bar.
constexpr int64_t kParallelStream = kSerialElements;

// Static contiguous split of [0, n) among the threads of the current team.
inline void ThreadRange(int64_t n, int64_t* lo, int64_t* hi) {
  const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
  *lo = n * t / nt;
  *hi = n * (t + 1) / nt;
}

// ExpF: the vectorisable exp of expf.h.

inline float Sigmoid(float g) { return 1.0f / (1.0f + ExpF(-g)); }

// ------------------------------------------------------------------------ rmsnorm

Napi::Value RmsnormForward(const Napi::CallbackInfo& info) {
  Args a(info, "rmsnormForward", 7);
  const int64_t rows = a.Size(4, "rows"), dim = a.Size(5, "dim");
  const double eps = a.Number(6, "eps");
  const float* x = a.F32(0, "x", Elems(rows, dim));
  const float* w = a.F32(1, "w", Elems(dim));
  float* y = a.F32(2, "y", Elems(rows, dim));
  float* rstd = a.F32(3, "rstd", Elems(rows));
  if (!a.ok()) return info.Env().Undefined();

#pragma omp parallel for schedule(static) if (rows * dim > kParallelWork)
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (int64_t i = 0; i < dim; i++) ss += xr[i] * xr[i];
    // One scalar per row: do it in double, as the reference does.
    const float rs = static_cast<float>(1.0 / std::sqrt(static_cast<double>(ss) / dim + eps));
    rstd[r] = rs;
    for (int64_t i = 0; i < dim; i++) yr[i] = xr[i] * rs * w[i];
  }
  return info.Env().Undefined();
}

// y_i = x_i r w_i, r = (mean(x^2) + eps)^(-1/2):
//   dx_j += r (dy_j w_j - x_j r^2/dim * sum_i dy_i w_i x_i),   dw_i += sum_rows dy_i x_i r.
// dw is a sum over rows: each thread accumulates its rows into a private f64 buffer (no race, no
// atomics, and f64 keeps a 20k-row sum accurate); the buffers are then added in thread order.
Napi::Value RmsnormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "rmsnormBackward", 8);
  const int64_t rows = a.Size(6, "rows"), dim = a.Size(7, "dim");
  const float* x = a.F32(0, "x", Elems(rows, dim));
  const float* w = a.F32(1, "w", Elems(dim));
  const float* rstd = a.F32(2, "rstd", Elems(rows));
  const float* dy = a.F32(3, "dy", Elems(rows, dim));
  float* dx = a.F32(4, "dx", Elems(rows, dim));
  float* dw = a.F32(5, "dw", Elems(dim));
  if (!a.ok()) return info.Env().Undefined();

  const int nt = rows * dim > kParallelWork ? omp_get_max_threads() : 1;
  std::vector<double> partial(static_cast<size_t>(nt) * dim, 0.0);
#pragma omp parallel num_threads(nt)
  {
    int64_t r0, r1;
    ThreadRange(rows, &r0, &r1);
    double* acc = partial.data() + static_cast<size_t>(omp_get_thread_num()) * dim;
    for (int64_t r = r0; r < r1; r++) {
      const float* xr = x + r * dim;
      const float* dyr = dy + r * dim;
      float* dxr = dx + r * dim;
      const float rs = rstd[r];
      float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
      for (int64_t i = 0; i < dim; i++) dot += dyr[i] * w[i] * xr[i];
      const float c = rs * rs * dot / static_cast<float>(dim);
      for (int64_t i = 0; i < dim; i++) {
        dxr[i] += rs * (dyr[i] * w[i] - xr[i] * c);
        acc[i] += static_cast<double>(dyr[i] * xr[i] * rs);
      }
    }
  }
  for (int64_t i = 0; i < dim; i++) {
    double s = 0.0;
    for (int t = 0; t < nt; t++) s += partial[static_cast<size_t>(t) * dim + i];
    dw[i] += static_cast<float>(s);
  }
  return info.Env().Undefined();
}

// ------------------------------------------------------------------------ rope

// Half-split rotary embedding: pair (i, i + half) of each rotated vector turns by
// theta_i = pos * base^(-2i/headDim). Angles and their cos/sin are computed in double (a
// position of a few thousand times a frequency near 1 would lose ~1e-4 in f32) and rounded once.
// When the positions span fewer values than there are rows (the usual batch x seq case), a
// cos/sin table per distinct position is built first, so each sincos is done once.
Napi::Value Rope(const Napi::CallbackInfo& info) {
  Args a(info, "rope", 9);
  const int64_t rows = a.Size(3, "rows"), vecs = a.Size(4, "vecsPerRow");
  const int64_t rotated = a.Size(5, "rotated"), headDim = a.Size(6, "headDim");
  const double base = a.Number(7, "base");
  const bool inverse = a.Boolean(8, "inverse");
  if (a.ok() && headDim % 2 != 0) {
    a.FailRange("headDim must be even (pairs i, i + headDim/2), got " + std::to_string(headDim));
  }
  if (a.ok() && rotated > vecs) a.FailRange("rotated must be <= vecsPerRow");
  const float* x = a.F32(0, "x", Elems(rows, vecs, headDim));
  float* y = a.F32(1, "y", Elems(rows, vecs, headDim));
  const int32_t* pos = a.I32(2, "positions", Elems(rows));
  if (!a.ok() || rows == 0 || headDim == 0) return info.Env().Undefined();

  const int64_t half = headDim / 2;
  std::vector<double> invFreq(half);
  for (int64_t i = 0; i < half; i++) invFreq[i] = std::pow(base, -2.0 * i / headDim);

  // cos/sin of one position into c[0..half), s[0..half).
  auto angles = [&](int32_t p, float* c, float* s) {
    for (int64_t i = 0; i < half; i++) {
      const double th = p * invFreq[i];
      c[i] = static_cast<float>(std::cos(th));
      s[i] = static_cast<float>(std::sin(th));
    }
  };
  int32_t pmin = pos[0], pmax = pos[0];
  for (int64_t r = 1; r < rows; r++) {
    pmin = std::min(pmin, pos[r]);
    pmax = std::max(pmax, pos[r]);
  }
  const int64_t span = static_cast<int64_t>(pmax) - pmin + 1;
  const bool useTable = span < rows;
  std::vector<float> table;  // [span][2][half]: cos then sin
  if (useTable) {
    table.resize(static_cast<size_t>(span) * headDim);
#pragma omp parallel for schedule(static) if (span * half > kParallelWork / 8)
    for (int64_t q = 0; q < span; q++) {
      float* tq = table.data() + q * headDim;
      angles(static_cast<int32_t>(pmin + q), tq, tq + half);
    }
  }

  const int64_t rowLen = vecs * headDim;
#pragma omp parallel if (ExactParallelElements(rows * rowLen))
  {
    std::vector<float> own(useTable ? 0 : headDim);
    int64_t r0, r1;
    ThreadRange(rows, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
      const float* cs;
      if (useTable) {
        cs = table.data() + (static_cast<int64_t>(pos[r]) - pmin) * headDim;
      } else {
        angles(pos[r], own.data(), own.data() + half);
        cs = own.data();
      }
      const float* c = cs;
      const float* s = cs + half;
      for (int64_t v = 0; v < vecs; v++) {
        const float* xv = x + r * rowLen + v * headDim;
        float* yv = y + r * rowLen + v * headDim;
        if (v >= rotated) {  // identity part (e.g. the v of a fused qkv row)
          if (inverse) {
            for (int64_t i = 0; i < headDim; i++) yv[i] += xv[i];
          } else if (xv != yv) {
            std::memcpy(yv, xv, sizeof(float) * headDim);
          }
        } else if (!inverse) {
          for (int64_t i = 0; i < half; i++) {
            const float a0 = xv[i], a1 = xv[i + half];
            yv[i] = a0 * c[i] - a1 * s[i];
            yv[i + half] = a0 * s[i] + a1 * c[i];
          }
        } else {  // R^T = R(-theta): the gradient of a rotation is the opposite rotation
          for (int64_t i = 0; i < half; i++) {
            const float a0 = xv[i], a1 = xv[i + half];
            yv[i] += a0 * c[i] + a1 * s[i];
            yv[i + half] += a1 * c[i] - a0 * s[i];
          }
        }
      }
    }
  }
  return info.Env().Undefined();
}

// ------------------------------------------------------------------------ swiglu

Napi::Value SwigluForward(const Napi::CallbackInfo& info) {
  Args a(info, "swigluForward", 4);
  const int64_t rows = a.Size(2, "rows"), hidden = a.Size(3, "hidden");
  const float* h = a.F32(0, "h", Elems(rows, 2, hidden));
  float* out = a.F32(1, "out", Elems(rows, hidden));
  if (!a.ok()) return info.Env().Undefined();

#pragma omp parallel for schedule(static) if (ExactParallelElements(rows * hidden))
  for (int64_t r = 0; r < rows; r++) {
    const float* gate = h + r * 2 * hidden;
    const float* up = gate + hidden;
    float* o = out + r * hidden;
    for (int64_t i = 0; i < hidden; i++) o[i] = gate[i] * Sigmoid(gate[i]) * up[i];
  }
  return info.Env().Undefined();
}

// d silu(g)/dg = s (1 + g (1 - s)), s = sigmoid(g);  d out / d up = silu(g).
Napi::Value SwigluBackward(const Napi::CallbackInfo& info) {
  Args a(info, "swigluBackward", 5);
  const int64_t rows = a.Size(3, "rows"), hidden = a.Size(4, "hidden");
  const float* h = a.F32(0, "h", Elems(rows, 2, hidden));
  const float* dout = a.F32(1, "dout", Elems(rows, hidden));
  float* dh = a.F32(2, "dh", Elems(rows, 2, hidden));
  if (!a.ok()) return info.Env().Undefined();

#pragma omp parallel for schedule(static) if (rows * hidden > kParallelWork)
  for (int64_t r = 0; r < rows; r++) {
    const float* gate = h + r * 2 * hidden;
    const float* up = gate + hidden;
    const float* d = dout + r * hidden;
    float* dgate = dh + r * 2 * hidden;
    float* dup = dgate + hidden;
    for (int64_t i = 0; i < hidden; i++) {
      const float g = gate[i], s = Sigmoid(g);
      dgate[i] += d[i] * up[i] * s * (1.0f + g * (1.0f - s));
      dup[i] += d[i] * g * s;
    }
  }
  return info.Env().Undefined();
}

// ------------------------------------------------------------------------ gelu
//
// tanh form; tanh(u) = 1 - 2 / (exp(2u) + 1) through the vectorisable ExpF (saturates cleanly:
// exp overflow gives tanh = 1, underflow -1).

constexpr float kGeluC = 0.7978845608028654f;  // sqrt(2/pi)
constexpr float kGeluA = 0.044715f;

inline float GeluTanh(float v) {
  const float u = kGeluC * (v + kGeluA * v * v * v);
  return 1.0f - 2.0f / (ExpF(2.0f * u) + 1.0f);
}

Napi::Value GeluForward(const Napi::CallbackInfo& info) {
  Args a(info, "geluForward", 3);
  const int64_t n = a.Size(2, "n");
  const float* x = a.F32(0, "x", Elems(n));
  float* y = a.F32(1, "y", Elems(n));
  if (!a.ok()) return info.Env().Undefined();
#pragma omp parallel for simd schedule(static) if (n > kParallelWork)
  for (int64_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + GeluTanh(x[i]));
  return info.Env().Undefined();
}

Napi::Value GeluBackward(const Napi::CallbackInfo& info) {
  Args a(info, "geluBackward", 4);
  const int64_t n = a.Size(3, "n");
  const float* x = a.F32(0, "x", Elems(n));
  const float* dy = a.F32(1, "dy", Elems(n));
  float* dx = a.F32(2, "dx", Elems(n));
  if (!a.ok()) return info.Env().Undefined();
#pragma omp parallel for simd schedule(static) if (n > kParallelWork)
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i], t = GeluTanh(v);
    const float d = 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * kGeluC * (1.0f + 3.0f * kGeluA * v * v);
    dx[i] += dy[i] * d;
  }
  return info.Env().Undefined();
}

// ------------------------------------------------------------------------ softmax

Napi::Value SoftmaxForward(const Napi::CallbackInfo& info) {
  Args a(info, "softmaxForward", 4);
  const int64_t rows = a.Size(2, "rows"), dim = a.Size(3, "dim");
  const float* x = a.F32(0, "x", Elems(rows, dim));
  float* y = a.F32(1, "y", Elems(rows, dim));
  if (!a.ok()) return info.Env().Undefined();

#pragma omp parallel for schedule(static) if (rows * dim > kParallelWork)
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int64_t i = 0; i < dim; i++) mx = xr[i] > mx ? xr[i] : mx;  // vmaxps (std::max: scalar)
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < dim; i++) {
      yr[i] = ExpF(xr[i] - mx);  // subtracting the max keeps exp <= 1: no overflow
      sum += yr[i];
    }
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < dim; i++) yr[i] *= inv;
  }
  return info.Env().Undefined();
}

// dx += y * (dy - sum(dy * y))
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  Args a(info, "softmaxBackward", 5);
  const int64_t rows = a.Size(3, "rows"), dim = a.Size(4, "dim");
  const float* y = a.F32(0, "y", Elems(rows, dim));
  const float* dy = a.F32(1, "dy", Elems(rows, dim));
  float* dx = a.F32(2, "dx", Elems(rows, dim));
  if (!a.ok()) return info.Env().Undefined();

#pragma omp parallel for schedule(static) if (rows * dim > kParallelWork)
  for (int64_t r = 0; r < rows; r++) {
    const float* yr = y + r * dim;
    const float* dyr = dy + r * dim;
    float* dxr = dx + r * dim;
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (int64_t i = 0; i < dim; i++) dot += dyr[i] * yr[i];
    for (int64_t i = 0; i < dim; i++) dxr[i] += yr[i] * (dyr[i] - dot);
  }
  return info.Env().Undefined();
}

// ------------------------------------------------------------------------ logprob

// Targets must be < vocab (a negative target marks an ignored row).
bool CheckTargets(Args& a, const int32_t* targets, int64_t rows, int64_t vocab) {
  for (int64_t r = 0; r < rows; r++) {
    if (targets[r] >= vocab) {
      a.FailRange("target " + std::to_string(targets[r]) + " at row " + std::to_string(r) +
                  " is out of range [0, " + std::to_string(vocab) + ")");
      return false;
    }
  }
  return true;
}

// With m = max_j x_j, e_j = exp(x_j - m), S = sum e_j:  lse = m + log S, and
//   H = -sum p_j log p_j = log S - (1/S) sum_j e_j (x_j - m),
// two non-negative terms (no cancellation). Two passes over the row (max, then exp-sums), no
// probability buffer. A -inf logit (a masked token) has p = 0 and adds nothing, not NaN.
Napi::Value LogprobForward(const Napi::CallbackInfo& info) {
  Args a(info, "logprobForward", 7);
  const int64_t rows = a.Size(5, "rows"), vocab = a.Size(6, "vocab");
  const float* logits = a.F32(0, "logits", Elems(rows, vocab));
  const int32_t* targets = a.I32(1, "targets", Elems(rows));
  float* logp = a.F32(2, "logp", Elems(rows));
  float* lse = a.F32(3, "lse", Elems(rows));
  float* entropy = a.F32(4, "entropy", Elems(rows), /*nullable=*/true);
  if (!a.ok() || !CheckTargets(a, targets, rows, vocab)) return info.Env().Undefined();

#pragma omp parallel for schedule(static) if (rows * vocab > kParallelWork)
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = logits + r * vocab;
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < vocab; j++) mx = xr[j] > mx ? xr[j] : mx;  // vmaxps (std::max: scalar)
    float sum = 0.0f, wsum = 0.0f;
    if (entropy) {
#pragma omp simd reduction(+ : sum, wsum)
      for (int64_t j = 0; j < vocab; j++) {
        const float d = xr[j] - mx, e = ExpF(d);
        sum += e;
        wsum += e == 0.0f ? 0.0f : e * d;  // p log p -> 0 as p -> 0 (d may be -inf)
      }
    } else {
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < vocab; j++) sum += ExpF(xr[j] - mx);
    }
    const double logS = std::log(static_cast<double>(sum));
    const double l = mx + logS;
    lse[r] = static_cast<float>(l);
    const int32_t t = targets[r];
    logp[r] = t < 0 ? 0.0f : static_cast<float>(xr[t] - l);
    if (entropy) entropy[r] = static_cast<float>(logS - static_cast<double>(wsum) / sum);
  }
  return info.Env().Undefined();
}

// p_j = exp(x_j - lse) recomputed from the saved lse. With a = dlogp[r] (0 for ignored rows or a
// null dlogp) and b = dentropy[r] (0 if null):
//   dx_j += a (1[j = t] - p_j) - b p_j (x_j - lse + H).
Napi::Value LogprobBackward(const Napi::CallbackInfo& info) {
  Args a(info, "logprobBackward", 9);
  const int64_t rows = a.Size(7, "rows"), vocab = a.Size(8, "vocab");
  const float* logits = a.F32(0, "logits", Elems(rows, vocab));
  const int32_t* targets = a.I32(1, "targets", Elems(rows));
  const float* lse = a.F32(2, "lse", Elems(rows));
  const float* entropy = a.F32(3, "entropy", Elems(rows), true);
  const float* dlogp = a.F32(4, "dlogp", Elems(rows), true);
  const float* dentropy = a.F32(5, "dentropy", Elems(rows), true);
  float* dlogits = a.F32(6, "dlogits", Elems(rows, vocab));
  if (a.ok() && dentropy && !entropy) a.Fail("dentropy needs the saved entropy");
  if (!a.ok() || !CheckTargets(a, targets, rows, vocab)) return info.Env().Undefined();

#pragma omp parallel for schedule(static) if (rows * vocab > kParallelWork)
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = logits + r * vocab;
    float* dr = dlogits + r * vocab;
    const int32_t t = targets[r];
    const float ca = (dlogp && t >= 0) ? dlogp[r] : 0.0f;
    const float cb = dentropy ? dentropy[r] : 0.0f;
    const float H = entropy ? entropy[r] : 0.0f;
    const float l = lse[r];
    if (cb != 0.0f) {
      for (int64_t j = 0; j < vocab; j++) {
        const float lp = xr[j] - l, p = ExpF(lp);
        dr[j] -= p == 0.0f ? 0.0f : p * (ca + cb * (lp + H));  // lp may be -inf where p = 0
      }
    } else if (ca != 0.0f) {
      for (int64_t j = 0; j < vocab; j++) dr[j] -= ExpF(xr[j] - l) * ca;
    }
    if (t >= 0) dr[t] += ca;
  }
  return info.Env().Undefined();
}

// ------------------------------------------------------------------------ embedding

bool CheckIds(Args& a, const int32_t* ids, int64_t rows, int64_t vocabRows) {
  for (int64_t r = 0; r < rows; r++) {
    if (ids[r] < 0 || ids[r] >= vocabRows) {
      a.FailRange("id " + std::to_string(ids[r]) + " at row " + std::to_string(r) +
                  " is out of range [0, " + std::to_string(vocabRows) + ")");
      return false;
    }
  }
  return true;
}

Napi::Value EmbeddingForward(const Napi::CallbackInfo& info) {
  Args a(info, "embeddingForward", 5);
  const int64_t rows = a.Size(3, "rows"), dim = a.Size(4, "dim");
  const float* table = a.F32(0, "table", 0);
  const int32_t* ids = a.I32(1, "ids", Elems(rows));
  float* out = a.F32(2, "out", Elems(rows, dim));
  if (!a.ok() || dim == 0) return info.Env().Undefined();
  if (!CheckIds(a, ids, rows, static_cast<int64_t>(a.Length(0)) / dim)) {
    return info.Env().Undefined();
  }

#pragma omp parallel for schedule(static) if (rows * dim > kParallelStream)
  for (int64_t r = 0; r < rows; r++) {
    std::memcpy(out + r * dim, table + static_cast<int64_t>(ids[r]) * dim, sizeof(float) * dim);
  }
  return info.Env().Undefined();
}

// dtable[ids[r], :] += dout[r, :]. Repeated ids make a row-parallel loop racy, so the threads
// split the COLUMNS instead (in whole 64-byte cache lines, against false sharing): each thread
// walks every row in order over its own column slice. Race-free, and each element sees the same
// additions in the same order as the serial reference (bit-identical results).
Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  Args a(info, "embeddingBackward", 5);
  const int64_t rows = a.Size(3, "rows"), dim = a.Size(4, "dim");
  const int32_t* ids = a.I32(0, "ids", Elems(rows));
  const float* dout = a.F32(1, "dout", Elems(rows, dim));
  float* dtable = a.F32(2, "dtable", 0);
  if (!a.ok() || dim == 0) return info.Env().Undefined();
  if (!CheckIds(a, ids, rows, static_cast<int64_t>(a.Length(2)) / dim)) {
    return info.Env().Undefined();
  }

  const int64_t lines = (dim + 15) / 16;
#pragma omp parallel if (rows * dim > kParallelWork && lines >= 2)
  {
    int64_t l0, l1;
    ThreadRange(lines, &l0, &l1);
    const int64_t c0 = std::min(dim, l0 * 16), c1 = std::min(dim, l1 * 16);
    for (int64_t r = 0; r < rows; r++) {
      float* dst = dtable + static_cast<int64_t>(ids[r]) * dim;
      const float* src = dout + r * dim;
      for (int64_t i = c0; i < c1; i++) dst[i] += src[i];
    }
  }
  return info.Env().Undefined();
}

// ------------------------------------------------------------------------ elementwise

// out may alias a or b: each element is read before it is written, so no __restrict here.
Napi::Value Add(const Napi::CallbackInfo& info) {
  Args a(info, "add", 4);
  const int64_t n = a.Size(3, "n");
  const float* x = a.F32(0, "a", Elems(n));
  const float* y = a.F32(1, "b", Elems(n));
  float* out = a.F32(2, "out", Elems(n));
  if (!a.ok()) return info.Env().Undefined();
#pragma omp parallel for simd schedule(static) if (ExactParallelElements(n))
  for (int64_t i = 0; i < n; i++) out[i] = x[i] + y[i];
  return info.Env().Undefined();
}

Napi::Value Mul(const Napi::CallbackInfo& info) {
  Args a(info, "mul", 4);
  const int64_t n = a.Size(3, "n");
  const float* x = a.F32(0, "a", Elems(n));
  const float* y = a.F32(1, "b", Elems(n));
  float* out = a.F32(2, "out", Elems(n));
  if (!a.ok()) return info.Env().Undefined();
#pragma omp parallel for simd schedule(static) if (ExactParallelElements(n))
  for (int64_t i = 0; i < n; i++) out[i] = x[i] * y[i];
  return info.Env().Undefined();
}

Napi::Value Axpy(const Napi::CallbackInfo& info) {
  Args a(info, "axpy", 4);
  const float alpha = static_cast<float>(a.Number(0, "alpha"));
  const int64_t n = a.Size(3, "n");
  const float* x = a.F32(1, "x", Elems(n));
  float* y = a.F32(2, "y", Elems(n));
  if (!a.ok()) return info.Env().Undefined();
#pragma omp parallel for simd schedule(static) if (n > kParallelStream)
  for (int64_t i = 0; i < n; i++) y[i] += alpha * x[i];
  return info.Env().Undefined();
}

Napi::Value ScaleInPlace(const Napi::CallbackInfo& info) {
  Args a(info, "scaleInPlace", 3);
  const float alpha = static_cast<float>(a.Number(1, "alpha"));
  const int64_t n = a.Size(2, "n");
  float* x = a.F32(0, "x", Elems(n));
  if (!a.ok()) return info.Env().Undefined();
#pragma omp parallel for simd schedule(static) if (n > kParallelStream)
  for (int64_t i = 0; i < n; i++) x[i] *= alpha;
  return info.Env().Undefined();
}

// Sum of squares in f64 (a global grad norm over millions of values). Per-thread partials over
// contiguous halves, combined in thread order: deterministic for a given thread count.
Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  Args a(info, "sumSquares", 2);
  const int64_t n = a.Size(1, "n");
  const float* x = a.F32(0, "x", Elems(n));
  if (!a.ok()) return info.Env().Undefined();
  const int nt = n > kParallelStream ? omp_get_max_threads() : 1;
  std::vector<double> partial(nt, 0.0);
#pragma omp parallel num_threads(nt)
  {
    int64_t i0, i1;
    ThreadRange(n, &i0, &i1);
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = i0; i < i1; i++) s += static_cast<double>(x[i]) * x[i];
    partial[omp_get_thread_num()] = s;
  }
  double total = 0.0;
  for (double s : partial) total += s;
  return Napi::Number::New(info.Env(), total);
}

// NaN/Inf are exactly the floats whose exponent bits are all ones.
Napi::Value CountNonFinite(const Napi::CallbackInfo& info) {
  Args a(info, "countNonFinite", 2);
  const int64_t n = a.Size(1, "n");
  const float* x = a.F32(0, "x", Elems(n));
  if (!a.ok()) return info.Env().Undefined();
  const uint32_t* bits = reinterpret_cast<const uint32_t*>(x);
  int64_t count = 0;
#pragma omp parallel for simd schedule(static) reduction(+ : count) if (n > kParallelStream)
  for (int64_t i = 0; i < n; i++) count += (bits[i] & 0x7f800000u) == 0x7f800000u;
  return Napi::Number::New(info.Env(), static_cast<double>(count));
}

// ------------------------------------------------------------------------ optimizer

// AdamW on elements [i0, i1). g++ will not vectorise a loop calling sqrt unless
// -fno-math-errno (sqrt of a negative sets errno: a branch + call per element), and the optimize
// attribute does not lift that, so the AVX-512 build spells the 16-wide loop out with intrinsics
// (masked loads/stores for the tail); the scalar loop is the same formula.
struct AdamwStep {
  float b1, b2, c1, c2, gradScale, eps;
  float step;   // lr / bc1: multiplies m
  float ibc2;   // 1 / bc2: multiplies v
  float decay;  // lr * wd: decoupled weight decay
};
void AdamwRange(float* p, const float* g, float* m, float* v, int64_t i0, int64_t i1,
                const AdamwStep& s) {
  int64_t i = i0;
#ifdef __AVX512F__
  const __m512 b1 = _mm512_set1_ps(s.b1), b2 = _mm512_set1_ps(s.b2);
  const __m512 c1 = _mm512_set1_ps(s.c1), c2 = _mm512_set1_ps(s.c2);
  const __m512 gs = _mm512_set1_ps(s.gradScale), eps = _mm512_set1_ps(s.eps);
  const __m512 step = _mm512_set1_ps(s.step), ibc2 = _mm512_set1_ps(s.ibc2);
  const __m512 decay = _mm512_set1_ps(s.decay);
  for (; i < i1; i += 16) {
    const __mmask16 k = i1 - i >= 16 ? 0xffff : static_cast<__mmask16>((1u << (i1 - i)) - 1);
    const __m512 gi = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, g + i), gs);
    const __m512 mi = _mm512_fmadd_ps(b1, _mm512_maskz_loadu_ps(k, m + i), _mm512_mul_ps(c1, gi));
    const __m512 vi = _mm512_fmadd_ps(b2, _mm512_maskz_loadu_ps(k, v + i),
                                      _mm512_mul_ps(_mm512_mul_ps(c2, gi), gi));
    const __m512 pi = _mm512_maskz_loadu_ps(k, p + i);
    const __m512 den = _mm512_add_ps(_mm512_maskz_sqrt_ps(k, _mm512_mul_ps(vi, ibc2)), eps);
    const __m512 upd = _mm512_fmadd_ps(decay, pi, _mm512_div_ps(_mm512_mul_ps(step, mi), den));
    _mm512_mask_storeu_ps(m + i, k, mi);
    _mm512_mask_storeu_ps(v + i, k, vi);
    _mm512_mask_storeu_ps(p + i, k, _mm512_sub_ps(pi, upd));
  }
#endif
  for (; i < i1; i++) {
    const float gi = g[i] * s.gradScale;
    const float mi = s.b1 * m[i] + s.c1 * gi;
    const float vi = s.b2 * v[i] + s.c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= s.step * mi / (std::sqrt(vi * s.ibc2) + s.eps) + s.decay * p[i];
  }
}

// One AdamW step, in place (formula in types.ts). Per-step scalars are folded once in double;
// the per-element work is f32.
Napi::Value Adamw(const Napi::CallbackInfo& info) {
  Args a(info, "adamw", 13);
  const int64_t n = a.Size(4, "n");
  const double lr = a.Number(5, "lr"), b1 = a.Number(6, "beta1"), b2 = a.Number(7, "beta2");
  const double eps = a.Number(8, "eps"), wd = a.Number(9, "weightDecay");
  const double bc1 = a.Number(10, "bc1"), bc2 = a.Number(11, "bc2");
  const double gs = a.Number(12, "gradScale");
  float* p = a.F32(0, "p", Elems(n));
  const float* g = a.F32(1, "g", Elems(n));
  float* m = a.F32(2, "m", Elems(n));
  float* v = a.F32(3, "v", Elems(n));
  if (!a.ok()) return info.Env().Undefined();

  AdamwStep s;
  s.b1 = static_cast<float>(b1);
  s.b2 = static_cast<float>(b2);
  s.c1 = static_cast<float>(1.0 - b1);
  s.c2 = static_cast<float>(1.0 - b2);
  s.gradScale = static_cast<float>(gs);
  s.eps = static_cast<float>(eps);
  s.step = static_cast<float>(lr / bc1);
  s.ibc2 = static_cast<float>(1.0 / bc2);
  s.decay = static_cast<float>(lr * wd);
#pragma omp parallel if (n > kParallelWork)
  {
    int64_t i0, i1;
    ThreadRange(n, &i0, &i1);
    AdamwRange(p, g, m, v, i0, i1, s);
  }
  return info.Env().Undefined();
}

// ------------------------------------------------------------------------ bf16 casts

// bf16 = the top 16 bits of an f32. Round the dropped half to nearest, ties to even, by adding
// 0x7fff plus the lowest kept bit; the carry may run into the exponent, which is exactly right
// (and turns the largest finite floats into Inf, as IEEE rounding does). Inf has zero low bits
// and passes unchanged. NaN is truncated with the quiet bit forced on, since truncating alone
// could turn a NaN whose payload sits in the low bits into Inf.
Napi::Value ToBf16(const Napi::CallbackInfo& info) {
  Args a(info, "toBf16", 3);
  const int64_t n = a.Size(2, "n");
  const float* x = a.F32(0, "x", Elems(n));
  uint16_t* out = a.U16(1, "out", Elems(n));
  if (!a.ok()) return info.Env().Undefined();
  const uint32_t* bits = reinterpret_cast<const uint32_t*>(x);
#pragma omp parallel for simd schedule(static) if (n > kParallelStream)
  for (int64_t i = 0; i < n; i++) {
    const uint32_t b = bits[i];
    const uint32_t rounded = (b + 0x7fffu + ((b >> 16) & 1u)) >> 16;
    const uint32_t nan = (b >> 16) | 0x0040u;
    out[i] = static_cast<uint16_t>((b & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
  }
  return info.Env().Undefined();
}

Napi::Value FromBf16(const Napi::CallbackInfo& info) {
  Args a(info, "fromBf16", 3);
  const int64_t n = a.Size(2, "n");
  const uint16_t* x = a.U16(0, "x", Elems(n));
  float* out = a.F32(1, "out", Elems(n));
  if (!a.ok()) return info.Env().Undefined();
  uint32_t* bits = reinterpret_cast<uint32_t*>(out);
#pragma omp parallel for simd schedule(static) if (n > kParallelStream)
  for (int64_t i = 0; i < n; i++) bits[i] = static_cast<uint32_t>(x[i]) << 16;
  return info.Env().Undefined();
}

}  // namespace

void RegisterPointwise(Napi::Env env, Napi::Object exports) {
  struct Entry {
    const char* name;
    Napi::Value (*fn)(const Napi::CallbackInfo&);
  };
  static const Entry kEntries[] = {
      {"rmsnormForward", RmsnormForward},
      {"rmsnormBackward", RmsnormBackward},
      {"rope", Rope},
      {"swigluForward", SwigluForward},
      {"swigluBackward", SwigluBackward},
      {"geluForward", GeluForward},
      {"geluBackward", GeluBackward},
      {"softmaxForward", SoftmaxForward},
      {"softmaxBackward", SoftmaxBackward},
      {"logprobForward", LogprobForward},
      {"logprobBackward", LogprobBackward},
      {"embeddingForward", EmbeddingForward},
      {"embeddingBackward", EmbeddingBackward},
      {"add", Add},
      {"mul", Mul},
      {"axpy", Axpy},
      {"scaleInPlace", ScaleInPlace},
      {"sumSquares", SumSquares},
      {"countNonFinite", CountNonFinite},
      {"adamw", Adamw},
      {"toBf16", ToBf16},
      {"fromBf16", FromBf16},
  };
  for (const Entry& e : kEntries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
}

}  // namespace visurf
