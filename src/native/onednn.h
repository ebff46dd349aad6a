// What the oneDNN-backed kernels (linalg.cc, conv.cc) share: one CPU engine and stream for the
// whole addon, and the rule that small products run on one thread.
#pragma once
#include <dnnl.hpp>
#include <omp.h>

#include <cstdlib>

namespace visurf {

// inline functions: one static engine/stream/setting for every translation unit (C++17)
inline dnnl::engine& Engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}
inline dnnl::stream& Stream() {
  static dnnl::stream s(Engine());
  return s;
}

// Small products run on one thread. A fork-join costs microseconds on an idle machine but up to
// a scheduler time slice when the cores are shared (the second thread must be scheduled before the
// region can end): measured on the shared VM, a rollout's decode steps (products of 17-92 MFLOP)
// ran 2.6x faster on one thread than on two. Prefill and training products are 100x larger
// and keep both threads. VISURF_SERIAL_FLOPS overrides the threshold (0 = always parallel), and
// the addon's setSerialFlops changes it at run time.
inline double& SerialFlopsSetting() {
  static double v = [] {
    const char* e = std::getenv("VISURF_SERIAL_FLOPS");
    return e ? std::atof(e) : 134217728.0;  // 2^27
  }();
  return v;
}
inline double SerialFlops() { return SerialFlopsSetting(); }

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
