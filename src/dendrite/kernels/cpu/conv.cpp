// 2-D convolution, forward and both backward passes, on oneDNN's convolution primitives with
// plain NCHW / OIHW (GOIHW for groups) layouts: our tensors' own layout, so no reorders. Inputs
// that are not dense (permuted views, broadcast gradients) are copied to dense first.
//
// oneDNN's conventions differ from PyTorch's in two places handled here: dilation counts the
// gaps between taps (PyTorch's dilation minus one), and the right/bottom padding is explicit: it
// is whatever makes the given output size come out, and may be negative when the last rows of
// the input fall outside every window.
#include <algorithm>
#include <unordered_map>

#include "dendrite/kernels/cpu/cpu.h"
#include "dendrite/kernels/cpu/onednn_cache.h"
#include "dendrite/kernels/cpu/onednn_engine.h"

namespace dendrite::kernels::cpu {

namespace {

using dnnl::memory;

enum ConvKey : int64_t { kForward = 10, kBackwardData = 11, kBackwardWeights = 12 };

// Everything oneDNN needs to know about one convolution, in its terms.
struct ConvGeometry {
  memory::desc src, weights, bias, dst;
  memory::dims strides, dilates, padding_l, padding_r;
};

// x: [N, C, H, W], w: [O, C/groups, kh, kw], y: [N, O, Ho, Wo].
ConvGeometry geometry(const Shape& x, const Shape& w, const Shape& y, const Conv2dParams& p) {
  ConvGeometry g;
  g.src = onednn::f32_dense_desc(onednn::dims_of(x));
  g.dst = onednn::f32_dense_desc(onednn::dims_of(y));
  g.bias = onednn::f32_dense_desc({w[0]});
  // [O, C/g, kh, kw] is, byte for byte, oneDNN's [g, O/g, C/g, kh, kw].
  g.weights = onednn::f32_dense_desc(p.groups == 1 ? onednn::dims_of(w)
                                                   : memory::dims{p.groups, w[0] / p.groups, w[1], w[2], w[3]});
  for (size_t i = 0; i < 2; ++i) {
    const int64_t in = x[2 + i], out = y[2 + i], k = w[2 + i];
    g.strides.push_back(p.stride[i]);
    g.dilates.push_back(p.dilation[i] - 1);
    g.padding_l.push_back(p.padding[i]);
    g.padding_r.push_back((out - 1) * p.stride[i] + (k - 1) * p.dilation[i] + 1 - in - p.padding[i]);
  }
  return g;
}

onednn::PrimitiveKey conv_key(ConvKey kind, const Shape& x, const Shape& w, const Shape& y, const Conv2dParams& p,
                              bool bias) {
  onednn::PrimitiveKey key(kind);
  key.add(x).add(w).add(y).add(p.stride).add(p.padding).add(p.dilation).add(p.groups).add(bias);
  return key;
}

dnnl::convolution_forward::primitive_desc forward_pd(const ConvGeometry& g, bool bias) {
  const auto prop = dnnl::prop_kind::forward_training;
  const auto algo = dnnl::algorithm::convolution_direct;
  auto desc = bias ? dnnl::convolution_forward::desc(prop, algo, g.src, g.weights, g.bias, g.dst, g.strides, g.dilates,
                                                     g.padding_l, g.padding_r)
                   : dnnl::convolution_forward::desc(prop, algo, g.src, g.weights, g.dst, g.strides, g.dilates,
                                                     g.padding_l, g.padding_r);
  return {desc, onednn::engine()};
}

struct ConvPlan {
  ConvGeometry geometry;
  dnnl::primitive primitive;
};

ConvPlan make_forward(const ConvGeometry& g, bool bias) { return {g, dnnl::convolution_forward(forward_pd(g, bias))}; }

ConvPlan make_backward_data(const ConvGeometry& g) {
  dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, g.src, g.weights, g.dst, g.strides,
                                             g.dilates, g.padding_l, g.padding_r);
  dnnl::convolution_backward_data::primitive_desc pd(desc, onednn::engine(), forward_pd(g, false));
  return {g, dnnl::convolution_backward_data(pd)};
}

ConvPlan make_backward_weights(const ConvGeometry& g, bool bias) {
  const auto algo = dnnl::algorithm::convolution_direct;
  auto desc = bias ? dnnl::convolution_backward_weights::desc(algo, g.src, g.weights, g.bias, g.dst, g.strides,
                                                              g.dilates, g.padding_l, g.padding_r)
                   : dnnl::convolution_backward_weights::desc(algo, g.src, g.weights, g.dst, g.strides, g.dilates,
                                                              g.padding_l, g.padding_r);
  dnnl::convolution_backward_weights::primitive_desc pd(desc, onednn::engine(), forward_pd(g, bias));
  return {g, dnnl::convolution_backward_weights(pd)};
}

onednn::PrimitiveCache<ConvPlan>& plan_cache() {
  static onednn::PrimitiveCache<ConvPlan> cache;
  return cache;
}

const float* data(const TensorBase& t) { return static_cast<const float*>(t.raw_data()); }

void conv2d_forward(const TensorBase& x, const TensorBase& w, const TensorBase& bias, const Conv2dParams& p,
                    const TensorBase& y) {
  onednn::guarded("conv2d_forward", [&] {
    if (y.numel() == 0) return;
    const bool has_bias = bias.defined();
    auto key = conv_key(kForward, x.shape(), w.shape(), y.shape(), p, has_bias);
    auto plan =
        plan_cache().get(key, [&] { return make_forward(geometry(x.shape(), w.shape(), y.shape(), p), has_bias); });
    const TensorBase xd = onednn::dense(x), wd = onednn::dense(w);
    const ConvGeometry& g = plan->geometry;
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, onednn::wrap(g.src, data(xd))},
                                         {DNNL_ARG_WEIGHTS, onednn::wrap(g.weights, data(wd))},
                                         {DNNL_ARG_DST, onednn::wrap(g.dst, data(y))}};
    TensorBase bd;
    if (has_bias) {
      bd = onednn::dense(bias);
      args.emplace(DNNL_ARG_BIAS, onednn::wrap(g.bias, data(bd)));
    }
    std::lock_guard run_lock(onednn::execution_lock(plan.get()));
    plan->primitive.execute(onednn::stream(), args);
    onednn::stream().wait();
  });
}

void conv2d_backward_data(const TensorBase& gy, const TensorBase& w, const Conv2dParams& p, const TensorBase& gx) {
  onednn::guarded("conv2d_backward_data", [&] {
    if (gx.numel() == 0) return;
    auto key = conv_key(kBackwardData, gx.shape(), w.shape(), gy.shape(), p, false);
    auto plan =
        plan_cache().get(key, [&] { return make_backward_data(geometry(gx.shape(), w.shape(), gy.shape(), p)); });
    const TensorBase gyd = onednn::dense(gy), wd = onednn::dense(w);
    const ConvGeometry& g = plan->geometry;
    std::lock_guard run_lock(onednn::execution_lock(plan.get()));
    plan->primitive.execute(onednn::stream(), {{DNNL_ARG_DIFF_DST, onednn::wrap(g.dst, data(gyd))},
                                               {DNNL_ARG_WEIGHTS, onednn::wrap(g.weights, data(wd))},
                                               {DNNL_ARG_DIFF_SRC, onednn::wrap(g.src, data(gx))}});
    onednn::stream().wait();
  });
}

void fill_zero(const TensorBase& t) {
  auto* p = static_cast<float*>(t.raw_data());
  std::fill(p, p + t.numel(), 0.0f);
}

void conv2d_backward_weights(const TensorBase& x, const TensorBase& gy, const Conv2dParams& p, const TensorBase& gw,
                             const TensorBase& gbias) {
  onednn::guarded("conv2d_backward_weights", [&] {
    const bool has_bias = gbias.defined();
    if (gy.numel() == 0) {  // an empty batch contributes nothing
      fill_zero(gw);
      if (has_bias) fill_zero(gbias);
      return;
    }
    auto key = conv_key(kBackwardWeights, x.shape(), gw.shape(), gy.shape(), p, has_bias);
    auto plan = plan_cache().get(
        key, [&] { return make_backward_weights(geometry(x.shape(), gw.shape(), gy.shape(), p), has_bias); });
    const TensorBase xd = onednn::dense(x), gyd = onednn::dense(gy);
    const ConvGeometry& g = plan->geometry;
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, onednn::wrap(g.src, data(xd))},
                                         {DNNL_ARG_DIFF_DST, onednn::wrap(g.dst, data(gyd))},
                                         {DNNL_ARG_DIFF_WEIGHTS, onednn::wrap(g.weights, data(gw))}};
    if (has_bias) args.emplace(DNNL_ARG_DIFF_BIAS, onednn::wrap(g.bias, data(gbias)));
    std::lock_guard run_lock(onednn::execution_lock(plan.get()));
    plan->primitive.execute(onednn::stream(), args);
    onednn::stream().wait();
  });
}

}  // namespace

void register_conv(Registry& registry) {
  registry.add<OpId::conv2d_forward>(Backend::cpu, DType::f32, conv2d_forward);
  registry.add<OpId::conv2d_backward_data>(Backend::cpu, DType::f32, conv2d_backward_data);
  registry.add<OpId::conv2d_backward_weights>(Backend::cpu, DType::f32, conv2d_backward_weights);
}

}  // namespace dendrite::kernels::cpu
