// max_pool2d and avg_pool2d: validation (PyTorch's rules, floor mode), the forward kernel, and the
// backward beside it. Both run through the pool2d kernels; the backward gets the saved input and
// an alias of the output (a backend may use y to find the maxima without searching again).
#include "dendrite/ops/pooling.h"

#include "dendrite/core/memory_format.h"
#include "dendrite/kernels/registry.h"
#include "dendrite/ops/creation.h"

namespace dendrite {

using kernels::dispatch;
using kernels::OpId;
using kernels::Pool2dParams;
using kernels::PoolKind;

namespace {

using Grads = std::vector<TensorBase>;

// Fills in the default stride and checks everything the kernels assume.
Pool2dParams pool_params(const char* op, const Tensor& x, PoolKind kind, std::array<int64_t, 2> kernel,
                         std::array<int64_t, 2> stride, std::array<int64_t, 2> padding, bool count_include_pad) {
  DENDRITE_CHECK(x.dim() == 4, "{}: input must be 4-D [N, C, H, W], got {}", op, to_string(x.shape()));
  DENDRITE_CHECK(is_floating(x.dtype()), "{}: needs a floating-point tensor, got {}", op, describe(x));
  DENDRITE_CHECK(kernel[0] >= 1 && kernel[1] >= 1, "{}: kernel must be >= 1, got {}", op, kernel);
  if (stride[0] == 0 && stride[1] == 0) stride = kernel;
  DENDRITE_CHECK(stride[0] >= 1 && stride[1] >= 1, "{}: stride must be >= 1 (or {{0, 0}} for the kernel size), got {}",
                 op, stride);
  DENDRITE_CHECK(padding[0] >= 0 && padding[1] >= 0, "{}: padding must be >= 0, got {}", op, padding);
  // PyTorch's rule: with more padding than half the kernel, a window could lie wholly in padding.
  DENDRITE_CHECK(padding[0] <= kernel[0] / 2 && padding[1] <= kernel[1] / 2,
                 "{}: padding {} must be at most half the kernel {}", op, padding, kernel);
  DENDRITE_CHECK(x.shape()[2] + 2 * padding[0] >= kernel[0] && x.shape()[3] + 2 * padding[1] >= kernel[1],
                 "{}: input {} is smaller than the kernel {}x{} with padding {}", op, to_string(x.shape()), kernel[0],
                 kernel[1], padding);
  return {.kind = kind, .kernel = kernel, .stride = stride, .padding = padding, .count_include_pad = count_include_pad};
}

// Ho = (H + 2p - k) / s + 1, likewise Wo (floor mode).
Shape pool_output_shape(const Shape& x, const Pool2dParams& p) {
  Shape y{x[0], x[1], 0, 0};
  for (size_t a = 0; a < 2; ++a) y[2 + a] = (x[2 + a] + 2 * p.padding[a] - p.kernel[a]) / p.stride[a] + 1;
  return y;
}

Tensor pool2d(const char* op, const Tensor& x, const Pool2dParams& params) {
  // The output and the gradient keep x's format (core/memory_format.h).
  Tensor y(empty_in(memory_format_of(x), pool_output_shape(x.shape(), params), x.dtype()));
  dispatch<OpId::pool2d_forward>(x.dtype())(x, params, y);
  if (autograd::should_record({&x})) {
    Tensor saved_y = y.alias();  // an alias: the node must not own its own output's record
    autograd::record(op, y, {x}, [x, saved_y, params](const TensorBase& g) -> Grads {
      Tensor gx(empty_in(memory_format_of(x), x.shape(), x.dtype()));
      dispatch<OpId::pool2d_backward>(x.dtype())(x, saved_y, g, params, gx);
      return {gx};
    });
  }
  return y;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                  std::array<int64_t, 2> padding) {
  return pool2d("max_pool2d", x, pool_params("max_pool2d", x, PoolKind::max, kernel, stride, padding, true));
}

Tensor avg_pool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                  std::array<int64_t, 2> padding, bool count_include_pad) {
  return pool2d("avg_pool2d", x,
                pool_params("avg_pool2d", x, PoolKind::avg, kernel, stride, padding, count_include_pad));
}

}  // namespace dendrite
