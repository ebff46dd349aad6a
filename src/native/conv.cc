// 2-D convolution on oneDNN: forward, backward-data and backward-weights, f32 or bf16 inputs with
// f32 accumulation (the matmuls' autocast semantics).
//
// Layout is channels-last (see Conv2dSpec in src/engine/kernels/types.ts): activations NHWC,
// weights OHWI. Activations are handed to oneDNN in place as `nhwc`, which its AVX-512 direct
// and brgemm convolutions take natively. Weights are small, so each primitive may choose its own
// (blocked) weight layout: we reorder into and out of it on every call (a few thousand weights:
// microseconds, against milliseconds for the convolution).
// Primitives, their reorders and scratch buffers are cached by the full description (shapes,
// dtype, thread count), since creating one costs far more than running a small one.
//
// Backward kernels ACCUMULATE into dx / dw / db like every other backward kernel: oneDNN writes
// a fresh result into scratch and we add it.
#include "addon.h"
#include "args.h"
#include "bf16.h"
#include "onednn.h"

#include <dnnl.hpp>
#include <omp.h>

#include <stdexcept>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace visurf {
namespace {

using dnnl::memory;
using Dims = memory::dims;
using Dt = memory::data_type;
using Tag = memory::format_tag;

struct ConvShape {
  int64_t N, H, W, C, O, KH, KW, S, P, OH, OW;
  Dt dt;
  int64_t xLen() const { return N * H * W * C; }
  int64_t yLen() const { return N * OH * OW * O; }
  int64_t wLen() const { return O * KH * KW * C; }
  double Flops() const { return 2.0 * N * OH * OW * O * KH * KW * C; }
};

// Reads and validates the spec object; on a problem throws a TypeError naming the field.
bool ParseSpec(const Napi::CallbackInfo& info, size_t i, const char* kernel, ConvShape* s) {
  auto fail = [&](const std::string& m) {
    ArgError(info, std::string(kernel) + ": " + m);
    return false;
  };
  if (info.Length() <= i || !info[i].IsObject()) return fail("spec must be an object");
  Napi::Object o = info[i].As<Napi::Object>();
  auto field = [&](const char* name, int64_t min, int64_t* out) {
    Napi::Value v = o.Get(name);
    if (!v.IsNumber()) return fail(std::string("spec.") + name + " must be a number");
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= static_cast<double>(min)) || d > 1e9 || d != static_cast<double>(static_cast<int64_t>(d)))
      return fail(std::string("spec.") + name + " must be an integer >= " + std::to_string(min));
    *out = static_cast<int64_t>(d);
    return true;
  };
  if (!field("batch", 1, &s->N) || !field("height", 1, &s->H) || !field("width", 1, &s->W) ||
      !field("inChannels", 1, &s->C) || !field("outChannels", 1, &s->O) ||
      !field("kernelH", 1, &s->KH) || !field("kernelW", 1, &s->KW) || !field("stride", 1, &s->S) ||
      !field("padding", 0, &s->P))
    return false;
  Napi::Value dt = o.Get("dtype");
  const std::string dts = dt.IsString() ? dt.As<Napi::String>().Utf8Value() : "";
  if (dts != "f32" && dts != "bf16") return fail("spec.dtype must be 'f32' or 'bf16'");
  s->dt = dts == "bf16" ? Dt::bf16 : Dt::f32;
  if (s->H + 2 * s->P < s->KH || s->W + 2 * s->P < s->KW)
    return fail("the kernel is larger than the padded input");
  if (s->P >= s->KH || s->P >= s->KW)
    return fail("padding must be smaller than the kernel (a tap must touch the input)");
  s->OH = (s->H + 2 * s->P - s->KH) / s->S + 1;
  s->OW = (s->W + 2 * s->P - s->KW) / s->S + 1;
  return true;
}

Dims Strides(const ConvShape& s) { return {s.S, s.S}; }
Dims PadL(const ConvShape& s) { return {s.P, s.P}; }
// oneDNN wants the far-edge padding that makes the output size exact; with the floor rule it can
// be smaller than P (even negative: the far rows the stride skips are cropped, never read).
Dims PadR(const ConvShape& s) {
  return {(s.OH - 1) * s.S + s.KH - s.H - s.P, (s.OW - 1) * s.S + s.KW - s.W - s.P};
}
memory::desc SrcMd(const ConvShape& s, Dt dt) { return {{s.N, s.C, s.H, s.W}, dt, Tag::nhwc}; }
memory::desc DstMd(const ConvShape& s, Dt dt) { return {{s.N, s.O, s.OH, s.OW}, dt, Tag::nhwc}; }
memory::desc WeiMd(const ConvShape& s, Dt dt, Tag tag) {
  return {{s.O, s.C, s.KH, s.KW}, dt, tag};
}
memory::desc BiasMd(const ConvShape& s) { return {{s.O}, Dt::f32, Tag::x}; }

// Every primitive of one convolution shape, built on first use.
struct ConvPlan {
  ConvShape s;
  dnnl::convolution_forward::primitive_desc fwdPd;
  dnnl::convolution_forward fwd, fwdNoBias;
  memory::desc fwdWeiMd;
  std::unique_ptr<dnnl::convolution_backward_data::primitive_desc> bwdDataPd;
  std::unique_ptr<dnnl::convolution_backward_data> bwdData;
  std::unique_ptr<dnnl::convolution_backward_weights::primitive_desc> bwdWeiPd;
  std::unique_ptr<dnnl::convolution_backward_weights> bwdWei, bwdWeiNoBias;
};

std::string Key(const ConvShape& s) {
  std::ostringstream k;
  k << omp_get_max_threads() << '#' << s.N << ',' << s.H << ',' << s.W << ',' << s.C << ','
    << s.O << ',' << s.KH << ',' << s.KW << ',' << s.S << ',' << s.P << ','
    << static_cast<int>(s.dt);
  return k.str();
}

dnnl::convolution_forward::primitive_desc MakeFwdPd(const ConvShape& s, bool bias) {
  auto src = SrcMd(s, s.dt), dst = DstMd(s, Dt::f32), wei = WeiMd(s, s.dt, Tag::any);
  auto d = bias ? dnnl::convolution_forward::desc(
                      dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src,
                      wei, BiasMd(s), dst, Strides(s), PadL(s), PadR(s))
                : dnnl::convolution_forward::desc(
                      dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src,
                      wei, dst, Strides(s), PadL(s), PadR(s));
  return dnnl::convolution_forward::primitive_desc(d, Engine());
}

ConvPlan& Plan(const ConvShape& s) {
  static std::unordered_map<std::string, std::unique_ptr<ConvPlan>> cache;
  const std::string key = Key(s);
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  auto plan = std::make_unique<ConvPlan>();
  plan->s = s;
  plan->fwdPd = MakeFwdPd(s, true);
  plan->fwd = dnnl::convolution_forward(plan->fwdPd);
  auto noBiasPd = MakeFwdPd(s, false);
  // Both forward variants must agree on the weight layout, since they share one reordered copy.
  if (noBiasPd.weights_desc() != plan->fwdPd.weights_desc()) {
    throw std::runtime_error("conv2d: oneDNN chose different weight layouts with and without bias");
  }
  plan->fwdNoBias = dnnl::convolution_forward(noBiasPd);
  plan->fwdWeiMd = plan->fwdPd.weights_desc();
  return *cache.emplace(key, std::move(plan)).first->second;
}

void BuildBwdData(ConvPlan& p) {
  if (p.bwdData) return;
  const ConvShape& s = p.s;
  dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, SrcMd(s, Dt::f32),
                                          WeiMd(s, s.dt, Tag::any), DstMd(s, s.dt), Strides(s),
                                          PadL(s), PadR(s));
  p.bwdDataPd = std::make_unique<dnnl::convolution_backward_data::primitive_desc>(d, Engine(),
                                                                                 p.fwdPd);
  p.bwdData = std::make_unique<dnnl::convolution_backward_data>(*p.bwdDataPd);
}

void BuildBwdWeights(ConvPlan& p) {
  if (p.bwdWei) return;
  const ConvShape& s = p.s;
  auto make = [&](bool bias) {
    auto src = SrcMd(s, s.dt), ddst = DstMd(s, s.dt), dwei = WeiMd(s, Dt::f32, Tag::any);
    auto d = bias ? dnnl::convolution_backward_weights::desc(
                        dnnl::algorithm::convolution_direct, src, dwei, BiasMd(s), ddst,
                        Strides(s), PadL(s), PadR(s))
                  : dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct,
                                                             src, dwei, ddst, Strides(s), PadL(s),
                                                             PadR(s));
    return dnnl::convolution_backward_weights::primitive_desc(d, Engine(), p.fwdPd);
  };
  p.bwdWeiPd = std::make_unique<dnnl::convolution_backward_weights::primitive_desc>(make(true));
  auto noBias = make(false);
  if (noBias.diff_weights_desc() != p.bwdWeiPd->diff_weights_desc()) {
    throw std::runtime_error("conv2d: oneDNN chose different gradient layouts with and without bias");
  }
  p.bwdWei = std::make_unique<dnnl::convolution_backward_weights>(*p.bwdWeiPd);
  p.bwdWeiNoBias = std::make_unique<dnnl::convolution_backward_weights>(noBias);
}

// Scratch memory owned by the addon (only ever called from the JS thread). Slots keep separate
// buffers alive within one call.
template <typename T>
T* Scratch(int slot, size_t n) {
  static std::vector<T> bufs[6];
  if (bufs[slot].size() < n) bufs[slot].resize(n);
  return bufs[slot].data();
}

// f32 data as oneDNN should read it: in place, or converted to bf16 into scratch.
void* AsInput(const float* x, int64_t n, Dt dt, int slot) {
  if (dt == Dt::f32) return const_cast<float*>(x);
  uint16_t* b = Scratch<uint16_t>(slot, n);
  ConvertToBf16(x, b, n);
  return b;
}

// A user OHWI f32 weight array in the layout (and dtype) a primitive chose, in scratch `slot`:
// f32 is reordered directly; bf16 is rounded (ties to even, as everywhere) and then reordered.
memory ReorderWeights(const ConvShape& s, const float* w, const memory::desc& md, int slot) {
  memory user(WeiMd(s, s.dt, Tag::ohwi), Engine(), AsInput(w, s.wLen(), s.dt, 2));
  memory out(md, Engine(), Scratch<uint8_t>(slot, md.get_size()));
  dnnl::reorder(user, out).execute(Stream(), user, out);
  return out;
}

// Small convolutions run on one thread (onednn.h: the matmuls' rule and setting).
template <typename F>
void Run(const ConvShape& s, F&& f) {
  MaybeSerial(s.Flops() < SerialFlops(), [&] {
    f();
    Stream().wait();
  });
}

void AddInto(float* dst, const float* src, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > (1 << 18))
  for (int64_t i = 0; i < n; i++) dst[i] += src[i];
}

// ------------------------------------------------------------------------------------ forward

// conv2dForward(x, w, bias | null, y, spec)
Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  ConvShape s{};
  if (!ParseSpec(info, 4, "conv2dForward", &s)) return info.Env().Undefined();
  Args a(info, "conv2dForward", 5);
  const float* x = a.F32(0, "x", s.xLen());
  const float* w = a.F32(1, "w", s.wLen());
  const float* bias = a.F32(2, "bias", s.O, true);
  float* y = a.F32(3, "y", s.yLen());
  if (!a.ok()) return info.Env().Undefined();
  Run(s, [&] {
    ConvPlan& p = Plan(s);
    memory src(SrcMd(s, s.dt), Engine(), AsInput(x, s.xLen(), s.dt, 0));
    memory wei = ReorderWeights(s, w, p.fwdWeiMd, 1);
    memory dst(DstMd(s, Dt::f32), Engine(), y);
    if (bias) {
      memory b(BiasMd(s), Engine(), const_cast<float*>(bias));
      p.fwd.execute(Stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_BIAS, b},
                               {DNNL_ARG_DST, dst}});
    } else {
      p.fwdNoBias.execute(Stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei},
                                     {DNNL_ARG_DST, dst}});
    }
  });
  return info.Env().Undefined();
}

// ------------------------------------------------------------------------------------ backward

// conv2dBackwardData(dy, w, dx, spec): dx += conv^T(dy, w)
Napi::Value Conv2dBackwardData(const Napi::CallbackInfo& info) {
  ConvShape s{};
  if (!ParseSpec(info, 3, "conv2dBackwardData", &s)) return info.Env().Undefined();
  Args a(info, "conv2dBackwardData", 4);
  const float* dy = a.F32(0, "dy", s.yLen());
  const float* w = a.F32(1, "w", s.wLen());
  float* dx = a.F32(2, "dx", s.xLen());
  if (!a.ok()) return info.Env().Undefined();
  Run(s, [&] {
    ConvPlan& p = Plan(s);
    BuildBwdData(p);
    memory wei = ReorderWeights(s, w, p.bwdDataPd->weights_desc(), 1);
    memory ddst(DstMd(s, s.dt), Engine(), AsInput(dy, s.yLen(), s.dt, 0));
    float* fresh = Scratch<float>(3, s.xLen());
    memory dsrc(SrcMd(s, Dt::f32), Engine(), fresh);
    p.bwdData->execute(Stream(), {{DNNL_ARG_DIFF_DST, ddst}, {DNNL_ARG_WEIGHTS, wei},
                                  {DNNL_ARG_DIFF_SRC, dsrc}});
    Stream().wait();
    AddInto(dx, fresh, s.xLen());
  });
  return info.Env().Undefined();
}

// conv2dBackwardWeights(x, dy, dw, db | null, spec): dw += dW, db += sum(dy)
Napi::Value Conv2dBackwardWeights(const Napi::CallbackInfo& info) {
  ConvShape s{};
  if (!ParseSpec(info, 4, "conv2dBackwardWeights", &s)) return info.Env().Undefined();
  Args a(info, "conv2dBackwardWeights", 5);
  const float* x = a.F32(0, "x", s.xLen());
  const float* dy = a.F32(1, "dy", s.yLen());
  float* dw = a.F32(2, "dw", s.wLen());
  float* db = a.F32(3, "db", s.O, true);
  if (!a.ok()) return info.Env().Undefined();
  Run(s, [&] {
    ConvPlan& p = Plan(s);
    BuildBwdWeights(p);
    memory src(SrcMd(s, s.dt), Engine(), AsInput(x, s.xLen(), s.dt, 0));
    memory ddst(DstMd(s, s.dt), Engine(), AsInput(dy, s.yLen(), s.dt, 2));
    const memory::desc dweiMd = p.bwdWeiPd->diff_weights_desc();
    memory dwei(dweiMd, Engine(), Scratch<uint8_t>(1, dweiMd.get_size()));
    float* dbFresh = Scratch<float>(4, s.O);
    if (db) {
      memory dbias(BiasMd(s), Engine(), dbFresh);
      p.bwdWei->execute(Stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, ddst},
                                   {DNNL_ARG_DIFF_WEIGHTS, dwei}, {DNNL_ARG_DIFF_BIAS, dbias}});
    } else {
      p.bwdWeiNoBias->execute(Stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, ddst},
                                         {DNNL_ARG_DIFF_WEIGHTS, dwei}});
    }
    // back to the user's OHWI layout, then accumulate
    float* dwFresh = Scratch<float>(5, s.wLen());
    memory user(WeiMd(s, Dt::f32, Tag::ohwi), Engine(), dwFresh);
    dnnl::reorder(dwei, user).execute(Stream(), dwei, user);
    Stream().wait();
    AddInto(dw, dwFresh, s.wLen());
    if (db) AddInto(db, dbFresh, s.O);
  });
  return info.Env().Undefined();
}

// convImpl(spec): the oneDNN implementations chosen for a shape (for bench and docs).
Napi::Value ConvImpl(const Napi::CallbackInfo& info) {
  ConvShape s{};
  if (!ParseSpec(info, 0, "convImpl", &s)) return info.Env().Undefined();
  ConvPlan& p = Plan(s);
  BuildBwdData(p);
  BuildBwdWeights(p);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("forward", p.fwdPd.impl_info_str());
  o.Set("backwardData", p.bwdDataPd->impl_info_str());
  o.Set("backwardWeights", p.bwdWeiPd->impl_info_str());
  return o;
}

}  // namespace

void RegisterConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dForward", Napi::Function::New(env, Guarded<Conv2dForward>));
  exports.Set("conv2dBackwardData", Napi::Function::New(env, Guarded<Conv2dBackwardData>));
  exports.Set("conv2dBackwardWeights", Napi::Function::New(env, Guarded<Conv2dBackwardWeights>));
  exports.Set("convImpl", Napi::Function::New(env, Guarded<ConvImpl>));
}

}  // namespace visurf
