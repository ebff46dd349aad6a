// Shared helpers for the visurf N-API addon: argument unpacking with clear errors.
#pragma once
#include <napi.h>
#include <cstdint>
#include <exception>
#include <string>

namespace visurf {

// Each translation unit registers its functions on the exports object.
void RegisterLinalg(Napi::Env env, Napi::Object exports);
void RegisterPointwise(Napi::Env env, Napi::Object exports);
void RegisterConv(Napi::Env env, Napi::Object exports);
void RegisterDecode(Napi::Env env, Napi::Object exports);

// Throw a JS TypeError and return true if the argument is not what we expect.
inline bool ArgError(const Napi::CallbackInfo& info, const std::string& msg) {
  Napi::TypeError::New(info.Env(), "visurf native: " + msg).ThrowAsJavaScriptException();
  return true;
}

inline bool IsF32(const Napi::Value& v) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array;
}

// Wraps a native function so that a C++ exception (e.g. a dnnl::error) becomes a JS Error
// instead of terminating the process.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const std::exception& e) {
    Napi::Error::New(info.Env(), std::string("visurf native: ") + e.what())
        .ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
}

}  // namespace visurf
