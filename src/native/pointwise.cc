// Fused pointwise / normalisation / log-prob / optimizer kernels (OpenMP over both cores).
// Placeholder: filled in by the pointwise-kernels work.
#include "addon.h"

namespace visurf {
void RegisterPointwise(Napi::Env env, Napi::Object exports) {}
}  // namespace visurf
