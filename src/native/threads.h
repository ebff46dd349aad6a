// When the native kernels use both threads. A fork-join costs microseconds on idle cores but up
// to a scheduler time slice when the cores are shared (the second thread must be scheduled
// before the region can end). Measured on the shared VM, a rollout's decode steps (products of
// 17-92 MFLOP) ran 2.6x faster on one thread than on two while another process held the cores,
// and about 1.3x slower on idle cores.
//
// Two bars follow from that:
//  - SerialFlops(), for oneDNN products: fixed (2^27 FLOPs), because oneDNN may split a product's
//    reduction across threads, so its result can depend on the thread count, and a run must give
//    the same numbers on a busy machine as on an idle one (resume is exact).
//  - ExactSerialFlops(), for kernels whose tasks each compute whole outputs in a fixed order (the
//    result is the same on any number of threads): low while the cores are idle, the fixed bar
//    while they are shared, decided by CoresShared().
// VISURF_SERIAL_FLOPS fixes both bars (0 = always parallel) and turns the load probe off, as
// does the addon's setSerialFlops (a negative value restores the default).
#pragma once
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>

namespace visurf {

inline constexpr double kSerialFlops = 134217728.0;  // 2^27
inline constexpr double kIdleSerialFlops = 1048576.0;  // 2^20

// inline functions: one static setting for every translation unit (C++17). Negative = default.
inline double& SerialFlopsSetting() {
  static double v = [] {
    const char* e = std::getenv("VISURF_SERIAL_FLOPS");
    return e ? std::atof(e) : -1.0;
  }();
  return v;
}
inline double SerialFlops() {
  const double v = SerialFlopsSetting();
  return v < 0 ? kSerialFlops : v;
}

// Whether another process is competing for the cores: the median of three empty fork-joins
// above 200 us (an idle VM takes 2-30 us; a shared one waits for a time slice, milliseconds).
// Probed at most every half second, so the probe costs nothing on idle cores and under 1 % on
// shared ones.
// Tests and benchmarks fix the answer (0 idle, 1 shared) with the addon's setCoresShared;
// -1 (the default) probes.
inline int& CoresSharedOverride() {
  static int v = -1;
  return v;
}
inline bool CoresShared() {
  if (CoresSharedOverride() >= 0) return CoresSharedOverride() == 1;
  using Clock = std::chrono::steady_clock;
  static Clock::time_point next{};
  static bool shared = true;
  const Clock::time_point now = Clock::now();
  // Inside a parallel region or a one-thread section (MaybeSerial, setThreads(1)) a fork-join
  // has nothing to wait for and would read as idle: keep the last answer.
  if (now < next || omp_in_parallel() || omp_get_max_threads() < 2) return shared;
  double t[3];
  for (double& x : t) {
    const Clock::time_point a = Clock::now();
#pragma omp parallel num_threads(2)
    {
      // empty: the cost is the fork-join itself
    }
    x = std::chrono::duration<double>(Clock::now() - a).count();
  }
  std::sort(t, t + 3);
  shared = t[1] > 200e-6;
  next = Clock::now() + std::chrono::milliseconds(500);
  return shared;
}

inline double ExactSerialFlops() {
  const double v = SerialFlopsSetting();
  if (v >= 0) return v;
  return CoresShared() ? kSerialFlops : kIdleSerialFlops;
}

// The same two rules for pointwise kernels, in elements of work (1-10 flops each): fixed at 2^18
// elements, or, for kernels that compute each output element (or row) whole, 2^14 while the
// cores are idle.
inline constexpr int64_t kSerialElements = 1 << 18;
inline constexpr int64_t kIdleSerialElements = 1 << 14;
inline bool ExactParallelElements(int64_t n) {
  if (n <= kIdleSerialElements) return false;  // no probe for tiny kernels
  const bool idle = SerialFlopsSetting() < 0 && !CoresShared();
  return n > (idle ? kIdleSerialElements : kSerialElements);
}

// Runs f with OpenMP limited to one thread when serial is true (oneDNN reads the thread count
// when a primitive is created and when it runs).
template <typename F>
void MaybeSerial(bool serial, F&& f) {
  if (!serial) {
    f();
    return;
  }
  const int prev = omp_get_max_threads();
  omp_set_num_threads(1);
  f();
  omp_set_num_threads(prev);
}

}  // namespace visurf
