// Lookups by integer index. Every index is checked here, serially, before any kernel runs (kernels
// never throw); the kernels then see contiguous i64 indices. The backward of a lookup scatters the
// gradient back with accumulation, so an index that appears twice receives both contributions.
#include "dendrite/ops/indexing.h"

#include <string>

#include "dendrite/kernels/registry.h"
#include "dendrite/ops/creation.h"

namespace dendrite {

using kernels::dispatch;
using kernels::OpId;

namespace {

using Grads = std::vector<TensorBase>;

void check_integer(const char* op, const char* what, const Tensor& index) {
  DENDRITE_CHECK(!is_floating(index.dtype()), "{}: {} must be integer (i64 or i32), got {}", op, what, describe(index));
}

// Where a bad index sits: "3" in a 1-D index tensor, "[1, 2]" otherwise.
std::string position(const Shape& shape, int64_t flat) {
  if (shape.size() == 1) return std::to_string(flat);
  Shape at(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    at[d] = flat % shape[d];
    flat /= shape[d];
  }
  return to_string(at);
}

// The indices as a contiguous i64 tensor, each checked to lie in [0, bound); `context` ends the
// message (e.g. " for axis 1 of [3, 5]").
Tensor checked_index(const char* op, const Tensor& index, int64_t bound, const std::string& context) {
  Tensor index64 = index.to(DType::i64).contiguous();
  const int64_t* p = index64.data_ptr<int64_t>();
  for (int64_t i = 0; i < index64.numel(); ++i) {
    DENDRITE_CHECK(p[i] >= 0 && p[i] < bound, "{}: index {} at position {} is out of range [0, {}){}", op, p[i],
                   position(index64.shape(), i), bound, context);
  }
  return index64;
}

// out = x taken at index64 (flattened to 1-D) along axis, laid out as `out_shape` (which has the
// same elements as x's shape with that axis resized to the number of indices).
Tensor select_along(const char* name, const Tensor& x, int64_t axis, const Tensor& index64, const Shape& out_shape) {
  const int64_t count = index64.numel();
  TensorBase flat_index = index64.as_strided({count}, {1}, index64.offset());
  Shape kernel_shape = x.shape();
  kernel_shape[static_cast<size_t>(axis)] = count;
  Tensor out = empty(out_shape, x.dtype());
  dispatch<OpId::index_select>(x.dtype())(x, axis, flat_index,
                                          out.as_strided(kernel_shape, contiguous_strides(kernel_shape), 0));
  if (autograd::should_record({&x})) {
    Shape x_shape = x.shape();
    autograd::record(name, out, {x}, [x_shape, axis, flat_index, kernel_shape](const TensorBase& g) -> Grads {
      Tensor gx = zeros(x_shape, g.dtype());
      dispatch<OpId::index_add>(g.dtype())(gx, axis, flat_index, Tensor(g).reshape(kernel_shape));
      return {gx};
    });
  }
  return out;
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& indices) {
  DENDRITE_CHECK(weight.dim() == 2, "embedding: weight must be [num, dim], got {}", to_string(weight.shape()));
  check_integer("embedding", "indices", indices);
  Tensor index64 = checked_index("embedding", indices, weight.shape()[0], "");
  Shape out_shape = indices.shape();
  out_shape.push_back(weight.shape()[1]);
  return select_along("embedding", weight, 0, index64, out_shape);
}

Tensor index_select(const Tensor& x, int64_t axis, const Tensor& index) {
  DENDRITE_CHECK(x.dim() >= 1, "index_select: needs a tensor of rank >= 1, got {}", describe(x));
  const int64_t a = normalize_axis("index_select", axis, x.dim());
  check_integer("index_select", "index", index);
  DENDRITE_CHECK(index.dim() == 1, "index_select: index must be 1-D, got {}", to_string(index.shape()));
  Tensor index64 =
      checked_index("index_select", index, x.size(a), fmt::format(" for axis {} of {}", a, to_string(x.shape())));
  Shape out_shape = x.shape();
  out_shape[static_cast<size_t>(a)] = index.numel();
  return select_along("index_select", x, a, index64, out_shape);
}

Tensor gather(const Tensor& x, int64_t axis, const Tensor& index) {
  DENDRITE_CHECK(x.dim() >= 1, "gather: needs a tensor of rank >= 1, got {}", describe(x));
  const int64_t a = normalize_axis("gather", axis, x.dim());
  check_integer("gather", "index", index);
  DENDRITE_CHECK(index.dim() == x.dim(), "gather: index rank {} differs from input rank {}: index {} vs input {}",
                 index.dim(), x.dim(), to_string(index.shape()), to_string(x.shape()));
  for (int64_t d = 0; d < x.dim(); ++d) {
    DENDRITE_CHECK(d == a || index.size(d) <= x.size(d),
                   "gather: index {} is larger than input {} at axis {} (only the gather axis {} may be larger)",
                   to_string(index.shape()), to_string(x.shape()), d, a);
  }
  Tensor index64 =
      checked_index("gather", index, x.size(a), fmt::format(" for axis {} of {}", a, to_string(x.shape())));
  Tensor out = empty(index.shape(), x.dtype());
  dispatch<OpId::gather>(x.dtype())(x, a, index64, out);
  if (autograd::should_record({&x})) {
    Shape x_shape = x.shape();
    autograd::record("gather", out, {x}, [x_shape, a, index64](const TensorBase& g) -> Grads {
      Tensor gx = zeros(x_shape, g.dtype());
      dispatch<OpId::scatter_add>(g.dtype())(gx, a, index64, g);
      return {gx};
    });
  }
  return out;
}

}  // namespace dendrite
