// What the oneDNN-backed kernels (linalg.cc, conv.cc) share: one CPU engine and one stream for
// the whole addon (the row halves of linalg.cc keep two more streams, one per half), and the rule
// that small products run on one thread (threads.h).
#pragma once
#include <dnnl.hpp>

#include "threads.h"

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

}  // namespace visurf
