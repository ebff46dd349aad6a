// Argument checking shared by the addon's kernels: every typed array must have the right
// element type and at least as many elements as the sizes imply; the first problem throws a JS
// error naming the kernel and the argument, before any memory is touched.
#pragma once
#include "addon.h"

#include <cmath>
#include <cstdint>
#include <string>

namespace visurf {

// a * b * c in 64 bits, saturating: an absurd size must fail the length check, not wrap around.
inline uint64_t Elems(uint64_t a, uint64_t b = 1, uint64_t c = 1) {
  uint64_t ab = 0, abc = 0;
  if (__builtin_mul_overflow(a, b, &ab) || __builtin_mul_overflow(ab, c, &abc)) return UINT64_MAX;
  return abc;
}

// Reads and checks the arguments of one kernel call. The first problem throws a JS error naming
// the kernel and the argument; later getters then return null/0, and the kernel returns as soon
// as it sees !ok(), before touching any array.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* kernel, size_t count)
      : info_(info), kernel_(kernel) {
    if (info.Length() < count) {
      Fail("expected " + std::to_string(count) + " arguments, got " +
           std::to_string(info.Length()));
    }
  }
  bool ok() const { return ok_; }

  void Fail(const std::string& msg) {
    if (!ok_) return;
    ok_ = false;
    ArgError(info_, std::string(kernel_) + ": " + msg);
  }
  void FailRange(const std::string& msg) {
    if (!ok_) return;
    ok_ = false;
    Napi::RangeError::New(info_.Env(), "visurf native: " + std::string(kernel_) + ": " + msg)
        .ThrowAsJavaScriptException();
  }

  // A non-negative integer (a size): rows, dim, n...
  int64_t Size(size_t i, const char* name) {
    if (!ok_) return 0;
    if (!info_[i].IsNumber()) return Fail(std::string(name) + " must be a number"), 0;
    const double d = info_[i].As<Napi::Number>().DoubleValue();
    if (!(d >= 0) || d > 9007199254740991.0 || d != std::floor(d)) {
      return Fail(std::string(name) + " must be a non-negative integer"), 0;
    }
    return static_cast<int64_t>(d);
  }
  double Number(size_t i, const char* name) {
    if (!ok_) return 0;
    if (!info_[i].IsNumber()) return Fail(std::string(name) + " must be a number"), 0;
    return info_[i].As<Napi::Number>().DoubleValue();
  }
  bool Boolean(size_t i, const char* name) {
    if (!ok_) return false;
    if (!info_[i].IsBoolean()) return Fail(std::string(name) + " must be a boolean"), false;
    return info_[i].As<Napi::Boolean>().Value();
  }

  float* F32(size_t i, const char* name, uint64_t need, bool nullable = false) {
    return Array<float>(i, name, napi_float32_array, "Float32Array", need, nullable);
  }
  int32_t* I32(size_t i, const char* name, uint64_t need) {
    return Array<int32_t>(i, name, napi_int32_array, "Int32Array", need, false);
  }
  uint16_t* U16(size_t i, const char* name, uint64_t need) {
    return Array<uint16_t>(i, name, napi_uint16_array, "Uint16Array", need, false);
  }
  // Element count of a typed-array argument already fetched successfully.
  uint64_t Length(size_t i) const {
    return info_[i].As<Napi::TypedArray>().ElementLength();
  }

 private:
  template <typename T>
  T* Array(size_t i, const char* name, napi_typedarray_type type, const char* typeName,
           uint64_t need, bool nullable) {
    if (!ok_) return nullptr;
    Napi::Value v = info_[i];
    if (nullable && (v.IsNull() || v.IsUndefined())) return nullptr;
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
      Fail(std::string(name) + " must be a " + typeName + (nullable ? " or null" : ""));
      return nullptr;
    }
    auto arr = v.As<Napi::TypedArrayOf<T>>();
    if (arr.ElementLength() < need) {
      Fail(std::string(name) + " has " + std::to_string(arr.ElementLength()) +
           " elements, the sizes need " + std::to_string(need));
      return nullptr;
    }
    return arr.Data();
  }

  const Napi::CallbackInfo& info_;
  const char* kernel_;
  bool ok_ = true;
};

}  // namespace visurf
