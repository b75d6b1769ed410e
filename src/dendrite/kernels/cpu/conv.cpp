// 2-D convolution, forward and both backward passes, on oneDNN's convolution primitives.
// Activations stored channels-last (core/memory_format.h) are handed to oneDNN as nhwc, which its
// AVX-512 kernels run as fast as their blocked layouts (W2: forward 188 vs 170-185 ms, backward
// data 157 vs 158, backward weights 198 vs 192, docs/performance.md), so they need no reorder.
// Plain NCHW activations and the OIHW (GOIHW for groups) weights are left to oneDNN ("any"
// layout; channel-blocked nChw16c / OIhw16i16o on AVX-512): with plain NCHW it could only offer
// its im2col + GEMM path, measured 3-8x slower on fashion-cnn's 3x3 layers (backward weights of
// 32->32 channels at 28x28: 15 GFLOP/s). Such operands are reordered into the chosen layout and
// results back around each call; the reorders are cached with the primitive, and their buffers
// come from the caching allocator. Inputs that are neither (permuted views, broadcast gradients)
// are copied to dense NCHW first.
//
// oneDNN's conventions differ from PyTorch's in two places handled here: dilation counts the
// gaps between taps (PyTorch's dilation minus one), and the right/bottom padding is explicit: it
// is whatever makes the given output size come out, and may be negative when the last rows of
// the input fall outside every window.
#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>

#include "dendrite/core/storage.h"
#include "dendrite/kernels/constant_operand.h"
#include "dendrite/kernels/cpu/cpu.h"
#include "dendrite/kernels/cpu/onednn_cache.h"
#include "dendrite/kernels/cpu/onednn_engine.h"
#include "dendrite/kernels/cpu/winograd_conv.h"
#include "dendrite/kernels/precision.h"

namespace dendrite::kernels::cpu {

namespace {

using dnnl::memory;

enum ConvKey : int64_t { kForward = 10, kBackwardData = 11, kBackwardWeights = 12 };

// Everything oneDNN needs to know about one convolution, in its terms.
struct ConvGeometry {
  memory::desc src, weights, bias, dst;
  memory::dims strides, dilates, padding_l, padding_r;
  // Ask oneDNN for nhwc src and dst (a plain one is reordered to nhwc): set when either is stored
  // channels-last. Mixing a fixed nhwc with "any" made oneDNN 2.6 fall back to its reference
  // convolution (DNNL_VERBOSE: ref:any for a plain 16-channel input and an nhwc output).
  bool ask_nhwc = false;
};

using onednn::activation;
using onednn::activation_desc;
using onednn::check_activation_output;
using onednn::is_nhwc;

// x: [N, C, H, W], w: [O, C/groups, kh, kw], y: [N, O, Ho, Wo]; x_nhwc / y_nhwc: which are stored
// channels-last.
ConvGeometry geometry(const Shape& x, const Shape& w, const Shape& y, const Conv2dParams& p, bool x_nhwc, bool y_nhwc) {
  ConvGeometry g;
  g.ask_nhwc = x_nhwc || y_nhwc;
  g.src = activation_desc(x, x_nhwc);
  g.dst = activation_desc(y, y_nhwc);
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

onednn::PrimitiveKey conv_key(ConvKey kind, const TensorBase& x, const Shape& w, const TensorBase& y,
                              const Conv2dParams& p, bool bias, bool inference = false) {
  onednn::PrimitiveKey key(kind);
  key.add(x.shape()).add(w).add(y.shape()).add(is_nhwc(x)).add(is_nhwc(y));
  key.add(p.stride).add(p.padding).add(p.dilation).add(p.groups).add(bias).add(inference).add(p.relu);
  key.add(static_cast<int64_t>(math_precision()));
  return key;
}

// inference: oneDNN's forward_inference, whose implementations need not serve a backward pass;
// relu: a ReLU applied to the output inside the primitive (an eltwise post-op).
dnnl::convolution_forward::primitive_desc forward_pd(const ConvGeometry& g, bool bias, bool inference = false,
                                                     bool relu = false) {
  const auto prop = inference ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
  const auto algo = dnnl::algorithm::convolution_direct;
  auto desc = bias ? dnnl::convolution_forward::desc(prop, algo, g.src, g.weights, g.bias, g.dst, g.strides, g.dilates,
                                                     g.padding_l, g.padding_r)
                   : dnnl::convolution_forward::desc(prop, algo, g.src, g.weights, g.dst, g.strides, g.dilates,
                                                     g.padding_l, g.padding_r);
  dnnl::primitive_attr attr;
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  return {desc, attr, onednn::engine()};
}

// Which convolution a geometry is for: it decides which of src, weights and dst are inputs.
enum class Pass { forward, backward_data, backward_weights };

// The geometry the primitive is asked for: src and dst nhwc when either is channels-last, every
// other tensor but the bias left to oneDNN ("any" layout). With bf16 the pass's two inputs are
// bf16 (the reorder into the chosen layout converts them on the way) and its output stays f32.
ConvGeometry any_layouts(const ConvGeometry& plain, Pass pass, bool bf16) {
  auto any = [](const memory::desc& d, bool low, bool keep_nhwc) {
    return memory::desc(d.dims(), low ? memory::data_type::bf16 : memory::data_type::f32,
                        keep_nhwc ? memory::format_tag::nhwc : memory::format_tag::any);
  };
  ConvGeometry g = plain;
  g.src = any(plain.src, bf16 && pass != Pass::backward_data, plain.ask_nhwc);
  g.weights = any(plain.weights, bf16 && pass != Pass::backward_weights, false);
  g.dst = any(plain.dst, bf16 && pass != Pass::forward, plain.ask_nhwc);
  return g;
}

// One primitive argument: our plain layout, the one the primitive chose, and the reorder between
// them when they differ (plain -> chosen for inputs, chosen -> plain for outputs).
struct Operand {
  memory::desc plain, chosen;
  std::optional<dnnl::reorder> reorder;

  Operand(const memory::desc& plain_desc, const memory::desc& chosen_desc, bool is_input)
      : plain(plain_desc), chosen(chosen_desc) {
    if (plain == chosen) return;
    const auto& from = is_input ? plain : chosen;
    const auto& to = is_input ? chosen : plain;
    reorder = dnnl::reorder(dnnl::reorder::primitive_desc(onednn::engine(), from, onednn::engine(), to));
  }
};

// An input in the primitive's layout: the tensor's own buffer, or a reordered copy in `scratch`.
memory stage_input(const Operand& op, const float* data, Storage& scratch) {
  memory user = onednn::wrap(op.plain, data);
  if (!op.reorder) return user;
  scratch = Storage::allocate(op.chosen.get_size());
  memory staged(op.chosen, onednn::engine(), scratch.data());
  op.reorder->execute(onednn::stream(), user, staged);
  return staged;
}

// The weights in the primitive's layout. Weights declared constant (kernels/constant_operand.h: an
// inference session over a frozen model) are reordered once per declaration and the copy reused:
// for a batch-1 inference the reorder of a 32 -> 64 3x3 layer's weights is ~6 us, a quarter of
// the convolution itself (docs/performance.md, "W5").
memory stage_weights(const Operand& op, const TensorBase& w, const std::string& key, Storage& scratch) {
  ConversionCache* conversions = op.reorder && w.is_contiguous() ? constant_operand_cache(w) : nullptr;
  if (conversions == nullptr) return stage_input(op, static_cast<const float*>(w.raw_data()), scratch);
  std::shared_ptr<const TensorBase> converted = conversions->find(w, key);
  if (!converted) {
    TensorBase buffer = TensorBase::empty({static_cast<int64_t>(op.chosen.get_size() / sizeof(float))});
    memory staged(op.chosen, onednn::engine(), buffer.raw_data());
    memory user = onednn::wrap(op.plain, static_cast<const float*>(w.raw_data()));
    op.reorder->execute(onednn::stream(), user, staged);
    converted = conversions->insert(w, key, std::move(buffer));
  }
  return memory(op.chosen, onednn::engine(), converted->raw_data());
}

// Where the primitive writes an output: the tensor's own buffer, or `scratch` to be reordered into
// it by finish_output.
memory stage_output(const Operand& op, const float* data, Storage& scratch) {
  if (!op.reorder) return onednn::wrap(op.plain, data);
  scratch = Storage::allocate(op.chosen.get_size());
  return memory(op.chosen, onednn::engine(), scratch.data());
}

void finish_output(const Operand& op, memory staged, const float* data) {
  if (!op.reorder) return;
  memory user = onednn::wrap(op.plain, data);
  op.reorder->execute(onednn::stream(), staged, user);
}

// A primitive with its operands: src/weights/dst play the roles of the forward convolution (for
// backward data, src is the gradient it writes; for backward weights, weights is).
struct ConvPlan {
  ConvGeometry geometry;  // plain layouts
  dnnl::primitive primitive;
  Operand src, weights, dst;
};

bool is_reference(const dnnl::primitive_desc_base& pd) { return std::string(pd.impl_info_str()).starts_with("ref"); }

// Forward-only calls with at least kInferenceMinChannels input channels use forward_inference: on
// W5's CNN (batch 1, one thread) oneDNN then picks its brgconv kernel for the 32 -> 64 channel
// layer, 23.5 -> 21 us, but for the 1 -> 32 layer it made 3.4 us into 4.3 (docs/performance.md, W5).
constexpr int64_t kInferenceMinChannels = 16;

// g asking for blocked layouts instead of nhwc, when it asked for nhwc and oneDNN offered only its
// reference kernel for that (its nhwc kernels do not cover every shape).
std::optional<ConvGeometry> blocked_instead(const ConvGeometry& g, const dnnl::primitive_desc_base& pd) {
  if (!g.ask_nhwc || !is_reference(pd)) return std::nullopt;
  ConvGeometry blocked = g;
  blocked.ask_nhwc = false;
  return blocked;
}

ConvPlan make_forward(const ConvGeometry& g, bool bias, bool bf16, bool inference, bool relu) {
  auto pd = forward_pd(any_layouts(g, Pass::forward, bf16), bias, inference, relu);
  if (auto blocked = blocked_instead(g, pd)) return make_forward(*blocked, bias, bf16, inference, relu);
  if (bf16 && is_reference(pd)) return make_forward(g, bias, false, inference, relu);
  return {g, dnnl::convolution_forward(pd), Operand(g.src, pd.src_desc(), true),
          Operand(g.weights, pd.weights_desc(), true), Operand(g.dst, pd.dst_desc(), false)};
}

ConvPlan make_backward_data(const ConvGeometry& g, bool bf16) {
  const ConvGeometry a = any_layouts(g, Pass::backward_data, bf16);
  dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, a.src, a.weights, a.dst, a.strides,
                                             a.dilates, a.padding_l, a.padding_r);
  dnnl::convolution_backward_data::primitive_desc pd(desc, onednn::engine(),
                                                     forward_pd(any_layouts(g, Pass::forward, bf16), false));
  if (auto blocked = blocked_instead(g, pd)) return make_backward_data(*blocked, bf16);
  if (bf16 && is_reference(pd)) return make_backward_data(g, false);
  return {g, dnnl::convolution_backward_data(pd), Operand(g.src, pd.diff_src_desc(), false),
          Operand(g.weights, pd.weights_desc(), true), Operand(g.dst, pd.diff_dst_desc(), true)};
}

ConvPlan make_backward_weights(const ConvGeometry& g, bool bias, bool bf16) {
  const ConvGeometry a = any_layouts(g, Pass::backward_weights, bf16);
  const auto algo = dnnl::algorithm::convolution_direct;
  auto desc = bias ? dnnl::convolution_backward_weights::desc(algo, a.src, a.weights, a.bias, a.dst, a.strides,
                                                              a.dilates, a.padding_l, a.padding_r)
                   : dnnl::convolution_backward_weights::desc(algo, a.src, a.weights, a.dst, a.strides, a.dilates,
                                                              a.padding_l, a.padding_r);
  dnnl::convolution_backward_weights::primitive_desc pd(desc, onednn::engine(),
                                                        forward_pd(any_layouts(g, Pass::forward, bf16), bias));
  if (auto blocked = blocked_instead(g, pd)) return make_backward_weights(*blocked, bias, bf16);
  if (bf16 && is_reference(pd)) return make_backward_weights(g, bias, false);
  return {g, dnnl::convolution_backward_weights(pd), Operand(g.src, pd.src_desc(), true),
          Operand(g.weights, pd.diff_weights_desc(), false), Operand(g.dst, pd.diff_dst_desc(), true)};
}

// bf16 convolutions when the precision asks for them (kernels/precision.h); a configuration that
// oneDNN serves only in f32 (or refuses in bf16) falls back to f32.
template <typename Make>
ConvPlan with_precision(Make&& make) {
  if (math_precision() == MathPrecision::bf16) {
    try {
      return make(true);
    } catch (const dnnl::error&) {
    }
  }
  return make(false);
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
    // 3x3 layers at inference: a quarter of the multiply-adds (winograd_conv.h).
    if (run_winograd_conv3x3(x, w, bias, p, y)) return;
    const bool has_bias = bias.defined();
    // Keyed on the decision, not on forward_only: below the threshold both calls share one plan.
    const bool inference = p.forward_only && x.shape()[1] >= kInferenceMinChannels;
    auto key = conv_key(kForward, x, w.shape(), y, p, has_bias, inference);
    auto plan = plan_cache().get(key, [&] {
      return with_precision([&](bool bf16) {
        return make_forward(geometry(x.shape(), w.shape(), y.shape(), p, is_nhwc(x), is_nhwc(y)), has_bias, bf16,
                            inference, p.relu);
      });
    });
    check_activation_output("conv2d_forward", y);
    const TensorBase xd = activation(x), wd = onednn::dense(w);
    Storage x_buf, w_buf, y_buf;
    // Held across the reorders too: cached primitives keep one scratchpad each (onednn_engine.h).
    std::lock_guard run_lock(onednn::execution_lock(plan.get()));
    memory dst = stage_output(plan->dst, data(y), y_buf);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, stage_input(plan->src, data(xd), x_buf)},
                                         {DNNL_ARG_WEIGHTS, stage_weights(plan->weights, wd, key.bytes(), w_buf)},
                                         {DNNL_ARG_DST, dst}};
    TensorBase bd;
    if (has_bias) {
      bd = onednn::dense(bias);
      args.emplace(DNNL_ARG_BIAS, onednn::wrap(plan->geometry.bias, data(bd)));
    }
    plan->primitive.execute(onednn::stream(), args);
    finish_output(plan->dst, dst, data(y));
    onednn::stream().wait();
  });
}

void conv2d_backward_data(const TensorBase& gy, const TensorBase& w, const Conv2dParams& p, const TensorBase& gx) {
  onednn::guarded("conv2d_backward_data", [&] {
    if (gx.numel() == 0) return;
    auto key = conv_key(kBackwardData, gx, w.shape(), gy, p, false);
    auto plan = plan_cache().get(key, [&] {
      return with_precision([&](bool bf16) {
        return make_backward_data(geometry(gx.shape(), w.shape(), gy.shape(), p, is_nhwc(gx), is_nhwc(gy)), bf16);
      });
    });
    check_activation_output("conv2d_backward_data", gx);
    const TensorBase gyd = activation(gy), wd = onednn::dense(w);
    Storage gy_buf, w_buf, gx_buf;
    // Held across the reorders too: cached primitives keep one scratchpad each (onednn_engine.h).
    std::lock_guard run_lock(onednn::execution_lock(plan.get()));
    memory diff_src = stage_output(plan->src, data(gx), gx_buf);
    std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, stage_input(plan->dst, data(gyd), gy_buf)},
                                         {DNNL_ARG_WEIGHTS, stage_weights(plan->weights, wd, key.bytes(), w_buf)},
                                         {DNNL_ARG_DIFF_SRC, diff_src}};
    plan->primitive.execute(onednn::stream(), args);
    finish_output(plan->src, diff_src, data(gx));
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
    auto key = conv_key(kBackwardWeights, x, gw.shape(), gy, p, has_bias);
    auto plan = plan_cache().get(key, [&] {
      return with_precision([&](bool bf16) {
        return make_backward_weights(geometry(x.shape(), gw.shape(), gy.shape(), p, is_nhwc(x), is_nhwc(gy)), has_bias,
                                     bf16);
      });
    });
    const TensorBase xd = activation(x), gyd = activation(gy);
    Storage x_buf, gy_buf, gw_buf;
    // Held across the reorders too: cached primitives keep one scratchpad each (onednn_engine.h).
    std::lock_guard run_lock(onednn::execution_lock(plan.get()));
    memory diff_weights = stage_output(plan->weights, data(gw), gw_buf);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, stage_input(plan->src, data(xd), x_buf)},
                                         {DNNL_ARG_DIFF_DST, stage_input(plan->dst, data(gyd), gy_buf)},
                                         {DNNL_ARG_DIFF_WEIGHTS, diff_weights}};
    if (has_bias) args.emplace(DNNL_ARG_DIFF_BIAS, onednn::wrap(plan->geometry.bias, data(gbias)));
    plan->primitive.execute(onednn::stream(), args);
    finish_output(plan->weights, diff_weights, data(gw));
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
