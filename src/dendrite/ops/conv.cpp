// conv2d: validation, the forward kernel, and its backward beside it. The data gradient and the
// weight (and bias) gradient come from their own kernels, so a backend can serve each with its
// best primitive (oneDNN has one for each).
#include "dendrite/ops/conv.h"

#include "dendrite/core/memory_format.h"
#include "dendrite/kernels/registry.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/elementwise.h"

namespace dendrite {

using kernels::dispatch;
using kernels::OpId;

namespace {

using Grads = std::vector<TensorBase>;

// The span of a dilated kernel along one axis: taps at 0, d, ..., d*(k-1).
int64_t dilated(int64_t kernel, int64_t dilation) { return dilation * (kernel - 1) + 1; }

void check_conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p) {
  DENDRITE_CHECK(x.dim() == 4, "conv2d: input must be 4-D [N, C, H, W], got {}", to_string(x.shape()));
  DENDRITE_CHECK(weight.dim() == 4, "conv2d: weight must be 4-D [O, C/groups, kh, kw], got {}",
                 to_string(weight.shape()));
  DENDRITE_CHECK(x.dtype() == weight.dtype(), "conv2d: dtypes differ: input {} and weight {}", describe(x),
                 describe(weight));
  DENDRITE_CHECK(is_floating(x.dtype()), "conv2d: needs floating-point tensors, got input {}", describe(x));
  DENDRITE_CHECK(p.groups >= 1, "conv2d: groups must be >= 1, got {}", p.groups);
  DENDRITE_CHECK(p.stride[0] >= 1 && p.stride[1] >= 1, "conv2d: stride must be >= 1, got {}", p.stride);
  DENDRITE_CHECK(p.padding[0] >= 0 && p.padding[1] >= 0, "conv2d: padding must be >= 0, got {}", p.padding);
  DENDRITE_CHECK(p.dilation[0] >= 1 && p.dilation[1] >= 1, "conv2d: dilation must be >= 1, got {}", p.dilation);
  const int64_t C = x.shape()[1], O = weight.shape()[0];
  DENDRITE_CHECK(weight.shape()[2] >= 1 && weight.shape()[3] >= 1, "conv2d: weight {} has an empty kernel",
                 to_string(weight.shape()));
  DENDRITE_CHECK(C == weight.shape()[1] * p.groups,
                 "conv2d: input {} has {} channels but weight {} with groups {} expects {}", to_string(x.shape()), C,
                 to_string(weight.shape()), p.groups, weight.shape()[1] * p.groups);
  DENDRITE_CHECK(O % p.groups == 0, "conv2d: weight {} has {} output channels, not divisible by groups {}",
                 to_string(weight.shape()), O, p.groups);
  if (bias.defined()) {
    DENDRITE_CHECK(bias.dim() == 1 && bias.shape()[0] == O, "conv2d: bias must be [{}] for weight {}, got {}", O,
                   to_string(weight.shape()), to_string(bias.shape()));
    DENDRITE_CHECK(bias.dtype() == x.dtype(), "conv2d: dtypes differ: input {} and bias {}", describe(x),
                   describe(bias));
  }
  const int64_t kh = dilated(weight.shape()[2], p.dilation[0]), kw = dilated(weight.shape()[3], p.dilation[1]);
  DENDRITE_CHECK(x.shape()[2] + 2 * p.padding[0] >= kh && x.shape()[3] + 2 * p.padding[1] >= kw,
                 "conv2d: input {} is smaller than the dilated kernel {}x{} with padding {}", to_string(x.shape()), kh,
                 kw, p.padding);
}

// Ho = (H + 2p - d*(k-1) - 1) / s + 1, likewise Wo (PyTorch's Conv2d).
Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dParams& p) {
  Shape y{x[0], w[0], 0, 0};
  for (size_t a = 0; a < 2; ++a) {
    y[2 + a] = (x[2 + a] + 2 * p.padding[a] - dilated(w[2 + a], p.dilation[a])) / p.stride[a] + 1;
  }
  return y;
}

}  // namespace

Tensor conv2d_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& params) {
  Conv2dParams fused = params;
  fused.relu = true;
  return conv2d(x, weight, bias, fused);
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& params) {
  check_conv2d(x, weight, bias, params);
  // Outputs are channels-last whatever the input's format (core/memory_format.h): the next
  // convolution, pooling, batch norm and element-wise ops then read them without a reorder, so a
  // network runs channels-last from its first convolution to the flatten before its classifier.
  Tensor y(empty_in(MemoryFormat::channels_last, conv2d_output_shape(x.shape(), weight.shape(), params), x.dtype()));
  const bool record = autograd::should_record({&x, &weight, &bias});
  Conv2dParams forward_params = params;
  forward_params.forward_only = !record;
  dispatch<OpId::conv2d_forward>(x.dtype())(x, weight, bias, forward_params, y);
  if (record) {
    const bool need_x = x.requires_grad(), need_w = weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    // With a fused ReLU the gradient is first masked where the output is 0 (y > 0 exactly where the
    // convolution was > 0). An alias: the node must not own its own output's record.
    const Tensor saved_y = params.relu ? Tensor(y.alias()) : Tensor();
    autograd::record(params.relu ? "conv2d_relu" : "conv2d", y, {x, weight, bias},
                     [x, weight, params, need_x, need_w, need_b, saved_y](const TensorBase& g_out) -> Grads {
                       TensorBase g = g_out;
                       if (params.relu) {
                         g = empty_in(memory_format_of(g_out), g_out.shape(), g_out.dtype());
                         dispatch<OpId::binary>(g.dtype())(kernels::BinaryOp::relu_grad, saved_y, g_out, g);
                       }
                       Tensor gx, gw, gb;
                       if (need_x) {
                         gx = Tensor(empty_in(memory_format_of(x), x.shape(), x.dtype()));
                         dispatch<OpId::conv2d_backward_data>(g.dtype())(g, weight, params, gx);
                       }
                       // One kernel gives both; gw is computed even when only the bias needs it.
                       if (need_w || need_b) {
                         gw = empty(weight.shape(), weight.dtype());
                         if (need_b) gb = empty({weight.shape()[0]}, weight.dtype());
                         dispatch<OpId::conv2d_backward_weights>(g.dtype())(x, g, params, gw, gb);
                       }
                       return {gx, need_w ? gw : Tensor(), gb};
                     });
  }
  return y;
}

}  // namespace dendrite
