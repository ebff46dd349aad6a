// bfloat16 conversion shared by the native kernels: round to nearest even, NaN kept NaN.
#pragma once
#include <cstdint>
#include <cstring>
#include <cstddef>

#include "threads.h"

namespace visurf {

inline uint16_t F32ToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7f800000u) == 0x7f800000u) {
    // Inf stays Inf; NaN keeps a set mantissa bit so it stays NaN after truncation.
    return static_cast<uint16_t>((bits >> 16) | ((bits & 0xffffu) ? 0x40u : 0u));
  }
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

inline float Bf16ToF32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Parallel conversion of n floats (OpenMP over both cores for large n; threads.h).
inline void ConvertToBf16(const float* x, uint16_t* out, int64_t n) {
#pragma omp parallel for if (ExactParallelElements(n)) schedule(static)
  for (int64_t i = 0; i < n; i++) out[i] = F32ToBf16(x[i]);
}

}  // namespace visurf
