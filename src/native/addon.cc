// Entry point of the visurf native addon (built by node-gyp, loaded by src/engine/kernels/native.ts).
#include "addon.h"
#include "args.h"
#include "threads.h"
#include <omp.h>

namespace visurf {

static Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("ompThreads", omp_get_max_threads());
  return o;
}

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Args args(info, "setThreads", 1);
  const int64_t n = args.Size(0, "threads");
  if (args.ok() && (n < 1 || n > 4096)) args.Fail("threads must be from 1 to 4096");
  if (!args.ok()) return info.Env().Undefined();
  omp_set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

// setCoresShared(mode): -1 probe (default), 0 treat the cores as idle, 1 as shared (threads.h).
static Napi::Value SetCoresShared(const Napi::CallbackInfo& info) {
  Args args(info, "setCoresShared", 1);
  const double mode = args.Number(0, "mode");
  if (args.ok() && mode != -1 && mode != 0 && mode != 1) args.Fail("mode must be -1, 0 or 1");
  if (!args.ok()) return info.Env().Undefined();
  CoresSharedOverride() = static_cast<int>(mode);
  return info.Env().Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("setCoresShared", Napi::Function::New(env, SetCoresShared));
  RegisterLinalg(env, exports);
  RegisterPointwise(env, exports);
  RegisterConv(env, exports);
  RegisterDecode(env, exports);
  return exports;
}

}  // namespace visurf

static Napi::Object InitVisurf(Napi::Env env, Napi::Object exports) {
  return visurf::Init(env, exports);
}

NODE_API_MODULE(visurf_native, InitVisurf)
