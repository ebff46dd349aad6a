// Entry point of the visurf native addon (built by node-gyp, loaded by src/engine/kernels/native.ts).
#include "addon.h"
#include <omp.h>

namespace visurf {

static Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("ompThreads", omp_get_max_threads());
  return o;
}

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  omp_set_num_threads(static_cast<int>(Int(info, 0)));
  return info.Env().Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  RegisterLinalg(env, exports);
  RegisterPointwise(env, exports);
  RegisterConv(env, exports);
  return exports;
}

}  // namespace visurf

static Napi::Object InitVisurf(Napi::Env env, Napi::Object exports) {
  return visurf::Init(env, exports);
}

NODE_API_MODULE(visurf_native, InitVisurf)
