// A vectorisable f32 exp shared by the native kernels (softmax, log-softmax, sigmoid, attention).
#pragma once
#include <cstdint>
#include <cstring>

namespace visurf {

// exp(x) in f32, branch-free and inline so that loops calling it auto-vectorise (libm's expf is
// an opaque call and is only vectorised under -ffast-math).
//   x = n ln2 + r, n = round(x / ln2), |r| <= ln2/2  (Cody-Waite: ln2 split into an exactly
//   representable high part 0.693359375 = 355/512 and the small remainder, so n*ln2_hi is exact);
//   exp(r) by its Taylor polynomial to degree 7 (truncation error |r|^8/8! < 6e-9, below f32
//   resolution); 2^n built directly in the exponent bits.
// Measured against double exp over [-87, 88]: max relative error 7.5e-8 (about 1 ulp).
// Below -87.3 the result is exactly 0 (so exp(-inf) = 0: masked logits get probability 0);
// above 88 it saturates at ~1.65e38 instead of Inf, harmless where it is used (softmax and
// log-softmax of x - max <= 0, sigmoid). NaN propagates (comparisons with NaN are false).
inline float ExpF(float x) {
  const bool under = x < -87.3f;
  x = under ? -87.3f : x;
  x = x > 88.0f ? 88.0f : x;
  // Adding 1.5 * 2^23 rounds x/ln2 to an integer held in the low mantissa bits of t.
  const float kShift = 12582912.0f;
  const float t = x * 1.44269504088896341f + kShift;
  const float n = t - kShift;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440054690583e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // n as an integer, read from t's bits (well defined even for NaN, unlike a float->int cast).
  int32_t tb, sb;
  std::memcpy(&tb, &t, 4);
  std::memcpy(&sb, &kShift, 4);
  const uint32_t scaleBits = static_cast<uint32_t>(tb - sb + 127) << 23;
  float scale;
  std::memcpy(&scale, &scaleBits, 4);
  return under ? 0.0f : p * scale;
}

}  // namespace visurf
