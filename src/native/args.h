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
    return Array<float>(info_[i], name, napi_float32_array, "Float32Array", need, nullable);
  }
  int32_t* I32(size_t i, const char* name, uint64_t need) {
    return Array<int32_t>(info_[i], name, napi_int32_array, "Int32Array", need, false);
  }
  double* F64(size_t i, const char* name, uint64_t need) {
    return Array<double>(info_[i], name, napi_float64_array, "Float64Array", need, false);
  }
  uint16_t* U16(size_t i, const char* name, uint64_t need) {
    return Array<uint16_t>(info_[i], name, napi_uint16_array, "Uint16Array", need, false);
  }
  // Whether argument i is a Uint16Array (for kernels that take f32 or bf16-bits arrays).
  bool IsU16(size_t i) const {
    return info_[i].IsTypedArray() &&
           info_[i].As<Napi::TypedArray>().TypedArrayType() == napi_uint16_array;
  }
  // Element count of a typed-array argument already fetched successfully.
  uint64_t Length(size_t i) const {
    return info_[i].As<Napi::TypedArray>().ElementLength();
  }

  // ---- a spec object argument (matmul's and attention's shapes) and its fields
  Napi::Object Spec(size_t i, const char* name) {
    if (!ok_) return Napi::Object::New(info_.Env());
    if (!info_[i].IsObject()) {
      Fail(std::string(name) + " must be an object");
      return Napi::Object::New(info_.Env());
    }
    return info_[i].As<Napi::Object>();
  }
  // A positive integer field (a size of a product or an attention).
  int64_t SpecSize(const Napi::Object& o, const char* key) {
    if (!ok_) return 0;
    Napi::Value v = o.Get(key);
    const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 1) || d > 9007199254740991.0 || d != std::floor(d)) {
      return Fail(std::string("spec.") + key + " must be a positive integer"), 0;
    }
    return static_cast<int64_t>(d);
  }
  // A boolean field; absent is false.
  bool SpecBool(const Napi::Object& o, const char* key) {
    if (!ok_) return false;
    Napi::Value v = o.Get(key);
    if (v.IsUndefined()) return false;
    if (!v.IsBoolean()) return Fail(std::string("spec.") + key + " must be a boolean"), false;
    return v.As<Napi::Boolean>().Value();
  }
  // "f32" (or absent) or "bf16".
  bool SpecIsBf16(const Napi::Object& o, const char* key) {
    if (!ok_) return false;
    Napi::Value v = o.Get(key);
    if (v.IsUndefined()) return false;
    const std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
    if (s != "f32" && s != "bf16") return Fail(std::string("spec.") + key + " must be \"f32\" or \"bf16\""), false;
    return s == "bf16";
  }
  // An optional typed-array field (null or absent: nullptr) of at least `need` elements.
  int32_t* SpecI32(const Napi::Object& o, const char* key, uint64_t need) {
    return Array<int32_t>(o.Get(key), (std::string("spec.") + key).c_str(), napi_int32_array,
                          "Int32Array", need, true);
  }
  uint16_t* SpecU16(const Napi::Object& o, const char* key, uint64_t need) {
    return Array<uint16_t>(o.Get(key), (std::string("spec.") + key).c_str(), napi_uint16_array,
                           "Uint16Array", need, true);
  }

 private:
  template <typename T>
  T* Array(Napi::Value v, const char* name, napi_typedarray_type type, const char* typeName,
           uint64_t need, bool nullable) {
    if (!ok_) return nullptr;
    if (nullable && (v.IsNull() || v.IsUndefined())) return nullptr;
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
      const bool vowel = std::string("AEIOU").find(typeName[0]) != std::string::npos;
      Fail(std::string(name) + (vowel ? " must be an " : " must be a ") + typeName +
           (nullable ? " or null" : ""));
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
