// Parameters of the kernel operations (kernels/ops.h). Plain structs so that backends, ops and the
// oneDNN primitive cache can all hash and compare them.
#pragma once

#include <array>
#include <cstdint>

namespace dendrite::kernels {

enum class UnaryOp : uint8_t { neg, exp, log, sqrt, rsqrt, abs, relu, sigmoid, tanh, gelu, erf, count };
enum class BinaryOp : uint8_t {
  add, sub, mul, div, pow, maximum, minimum,
  eq, gt,          // 1 where true, 0 where false, in the operands' dtype
  relu_grad,       // (x, g) -> x > 0 ? g : 0
  sigmoid_grad,    // (y, g) -> g * y * (1 - y), y = sigmoid(x)
  tanh_grad,       // (y, g) -> g * (1 - y^2), y = tanh(x)
  gelu_grad,       // (x, g) -> g * d/dx gelu(x), exact (erf) form
  count
};
enum class ReduceOp : uint8_t { sum, max, min, count };

struct Conv2dParams {
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
  // Set by the ops layer when nothing records a backward for this call (inference, evaluation): a
  // backend may then run an implementation that only serves the forward pass.
  bool forward_only = false;
  // The forward writes max(0, conv) instead of conv: a ReLU fused into the convolution (set by the
  // ops layer's conv2d_relu).
  bool relu = false;
  bool operator==(const Conv2dParams&) const = default;
};

enum class PoolKind : uint8_t { max, avg };
struct Pool2dParams {
  PoolKind kind = PoolKind::max;
  std::array<int64_t, 2> kernel{2, 2};
  std::array<int64_t, 2> stride{2, 2};
  std::array<int64_t, 2> padding{0, 0};
  // avg: whether padded zeros count in the divisor (PyTorch's count_include_pad, default true).
  bool count_include_pad = true;
  bool operator==(const Pool2dParams&) const = default;
};

}  // namespace dendrite::kernels
