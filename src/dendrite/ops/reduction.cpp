#include "dendrite/ops/reduction.h"

#include "dendrite/kernels/registry.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/elementwise.h"

namespace dendrite {

using kernels::dispatch;
using kernels::OpId;
using kernels::ReduceOp;

namespace {

// Which axes an axis list reduces (all of them for an empty list), as a shape with those axes 1.
Shape kept_shape(const char* op, const Tensor& x, const std::vector<int64_t>& axes) {
  Shape keep = x.shape();
  if (axes.empty()) {
    std::fill(keep.begin(), keep.end(), 1);
    return keep;
  }
  std::vector<bool> seen(keep.size(), false);
  for (int64_t axis : axes) {
    auto a = static_cast<size_t>(normalize_axis(op, axis, x.dim()));
    if (x.dim() == 0) continue;
    DENDRITE_CHECK(!seen[a], "{}: axis {} repeated", op, axis);
    seen[a] = true;
    keep[a] = 1;
  }
  return keep;
}

Shape dropped_shape(const Shape& in, const Shape& keep, const std::vector<int64_t>& axes, int64_t rank) {
  Shape out;
  for (size_t i = 0; i < in.size(); ++i) {
    bool reduced = axes.empty();
    for (int64_t a : axes) reduced = reduced || static_cast<size_t>(normalize_axis("reduce", a, rank)) == i;
    if (!reduced) out.push_back(keep[i]);
  }
  return out;
}

Tensor reduce_kernel(ReduceOp op, const Tensor& x, const Shape& keep) {
  Tensor out = empty(keep, x.dtype());
  dispatch<OpId::reduce>(x.dtype())(op, x, out);
  return out;
}

// Reduces, reshapes to the requested rank and records `backward(g_kept, y_kept)`, where g_kept has
// the keepdim shape.
template <typename Backward>
Tensor reduce_op(const char* name, ReduceOp op, const Tensor& x, const std::vector<int64_t>& axes, bool keepdim,
                 Backward backward) {
  DENDRITE_CHECK(op == ReduceOp::sum || x.numel() > 0, "{}: cannot reduce an empty tensor {}", name, describe(x));
  Shape keep = kept_shape(name, x, axes);
  Tensor y_kept = reduce_kernel(op, x, keep);
  Tensor y = y_kept;
  if (!keepdim) {
    Shape dropped = dropped_shape(x.shape(), keep, axes, x.dim());
    y = y_kept.as_strided(dropped, contiguous_strides(dropped), 0);
  }
  if (autograd::should_record({&x})) {
    Tensor saved = y_kept.alias();
    autograd::record(name, y, {x}, [x, keep, saved, backward](const TensorBase& g) -> std::vector<TensorBase> {
      Tensor g_kept = Tensor(g).reshape(keep);
      return {backward(x, g_kept, saved)};
    });
  }
  return y;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  return reduce_op("sum", ReduceOp::sum, x, axes, keepdim, [](const Tensor& x, const Tensor& g, const Tensor&) {
    return g.expand(x.shape());
  });
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  DENDRITE_CHECK(is_floating(x.dtype()), "mean: needs a floating-point tensor, got {}", describe(x));
  Shape keep = kept_shape("mean", x, axes);
  double count = static_cast<double>(x.numel()) / static_cast<double>(std::max<int64_t>(numel(keep), 1));
  return sum(x, axes, keepdim) / count;
}

namespace {
Tensor extremum(const char* name, ReduceOp op, const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  return reduce_op(name, op, x, axes, keepdim, [axes](const Tensor& x, const Tensor& g, const Tensor& y) {
    // Ties share the gradient equally (torch.amax's rule).
    Tensor mask = eq(x, y.expand(x.shape()));
    Tensor count = sum(mask, axes, true);
    return mul(mask, div(g, count).expand(x.shape()));
  });
}
}  // namespace

Tensor max(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  return extremum("max", ReduceOp::max, x, axes, keepdim);
}

Tensor min(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  return extremum("min", ReduceOp::min, x, axes, keepdim);
}

Tensor argmax(const Tensor& x, int64_t axis, bool keepdim) {
  int64_t a = normalize_axis("argmax", axis, x.dim());
  DENDRITE_CHECK(x.dim() > 0 && x.shape()[static_cast<size_t>(a)] > 0, "argmax: cannot reduce {} along axis {}",
                 describe(x), axis);
  Shape keep = x.shape();
  keep[static_cast<size_t>(a)] = 1;
  Tensor out = empty(keep, DType::i64);
  dispatch<OpId::argmax>(x.dtype())(x, a, out);
  return keepdim ? out : out.squeeze(a);
}

Tensor sum_to_shape(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const size_t lead = grad.shape().size() - shape.size();
  Shape keep(grad.shape().size(), 1);
  for (size_t i = lead; i < keep.size(); ++i) keep[i] = shape[i - lead];
  Tensor out = reduce_kernel(ReduceOp::sum, grad, keep);
  return out.as_strided(shape, contiguous_strides(shape), 0);
}

}  // namespace dendrite
