// Joining and splitting along an axis. concat is the one primitive here: it copies each input into
// its window of a fresh output and its backward hands each input the matching window of the
// gradient. stack and split are built from concat and the view ops, so they need no backward.
#include "dendrite/ops/join.h"

#include <algorithm>

#include "dendrite/kernels/registry.h"
#include "dendrite/ops/creation.h"

namespace dendrite {

namespace {

// Checks that every tensor can sit next to tensors[0] along `axis` (already normalised).
void check_joinable(const std::vector<Tensor>& tensors, int64_t axis) {
  const Tensor& first = tensors.front();
  for (size_t i = 1; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    DENDRITE_CHECK(t.defined(), "concat: tensor {} is undefined", i);
    DENDRITE_CHECK(t.dtype() == first.dtype(), "concat: dtypes differ: tensor 0 is {} and tensor {} is {}",
                   describe(first), i, describe(t));
    DENDRITE_CHECK(t.dim() == first.dim(), "concat: ranks differ: tensor 0 has shape {} and tensor {} has shape {}",
                   to_string(first.shape()), i, to_string(t.shape()));
    for (int64_t d = 0; d < first.dim(); ++d) {
      if (d == axis) continue;
      DENDRITE_CHECK(t.size(d) == first.size(d),
                     "concat: shapes differ off axis {}: tensor 0 has shape {} and tensor {} has shape {}", axis,
                     to_string(first.shape()), i, to_string(t.shape()));
    }
  }
}

}  // namespace

Tensor concat(const std::vector<Tensor>& tensors, int64_t axis) {
  DENDRITE_CHECK(!tensors.empty(), "concat: expects a non-empty list of tensors");
  const Tensor& first = tensors.front();
  DENDRITE_CHECK(first.defined(), "concat: tensor 0 is undefined");
  DENDRITE_CHECK(first.dim() > 0, "concat: zero-dimensional tensors cannot be concatenated (use stack)");
  const int64_t a = normalize_axis("concat", axis, first.dim());
  check_joinable(tensors, a);

  Shape out_shape = first.shape();
  std::vector<int64_t> sizes;
  sizes.reserve(tensors.size());
  out_shape[static_cast<size_t>(a)] = 0;
  for (const Tensor& t : tensors) {
    sizes.push_back(t.size(a));
    out_shape[static_cast<size_t>(a)] += t.size(a);
  }

  Tensor out = empty(out_shape, first.dtype());
  const int64_t axis_stride = out.stride(a);
  int64_t start = 0;
  for (const Tensor& t : tensors) {
    if (t.numel() > 0) {
      TensorBase window = out.as_strided(t.shape(), out.strides(), start * axis_stride);
      kernels::dispatch<kernels::OpId::copy>(t.dtype())(t, window);
    }
    start += t.size(a);
  }

  std::vector<TensorBase> inputs(tensors.begin(), tensors.end());
  if (autograd::should_record(inputs)) {
    autograd::record("concat", out, inputs, [a, sizes](const TensorBase& g) -> std::vector<TensorBase> {
      std::vector<TensorBase> grads;
      grads.reserve(sizes.size());
      int64_t offset = 0;
      for (int64_t size : sizes) {
        grads.push_back(Tensor(g).narrow(a, offset, size));
        offset += size;
      }
      return grads;
    });
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t axis) {
  DENDRITE_CHECK(!tensors.empty(), "stack: expects a non-empty list of tensors");
  const Tensor& first = tensors.front();
  DENDRITE_CHECK(first.defined(), "stack: tensor 0 is undefined");
  // The new axis may sit after the last existing one, hence rank + 1.
  const int64_t a = normalize_axis("stack", axis, first.dim() + 1);
  std::vector<Tensor> expanded;
  expanded.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    DENDRITE_CHECK(t.defined(), "stack: tensor {} is undefined", i);
    DENDRITE_CHECK(t.shape() == first.shape(), "stack: shapes differ: tensor 0 has shape {} and tensor {} has shape {}",
                   to_string(first.shape()), i, to_string(t.shape()));
    expanded.push_back(t.unsqueeze(a));
  }
  return concat(expanded, a);
}

std::vector<Tensor> split(const Tensor& x, int64_t size, int64_t axis) {
  DENDRITE_CHECK(x.dim() > 0, "split: cannot split a zero-dimensional tensor");
  const int64_t a = normalize_axis("split", axis, x.dim());
  DENDRITE_CHECK(size > 0, "split: size must be positive, got {}", size);
  const int64_t n = x.size(a);
  if (n == 0) return {x.narrow(a, 0, 0)};
  std::vector<Tensor> pieces;
  pieces.reserve(static_cast<size_t>((n + size - 1) / size));
  for (int64_t start = 0; start < n; start += size) pieces.push_back(x.narrow(a, start, std::min(size, n - start)));
  return pieces;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis) {
  DENDRITE_CHECK(x.dim() > 0, "split: cannot split a zero-dimensional tensor");
  const int64_t a = normalize_axis("split", axis, x.dim());
  int64_t total = 0;
  for (int64_t s : sizes) {
    DENDRITE_CHECK(s >= 0, "split: sizes [{}] contain the negative size {}", fmt::join(sizes, ", "), s);
    total += s;
  }
  DENDRITE_CHECK(total == x.size(a), "split: sizes [{}] add up to {} but axis {} of {} has size {}",
                 fmt::join(sizes, ", "), total, a, to_string(x.shape()), x.size(a));
  std::vector<Tensor> pieces;
  pieces.reserve(sizes.size());
  int64_t start = 0;
  for (int64_t s : sizes) {
    pieces.push_back(x.narrow(a, start, s));
    start += s;
  }
  return pieces;
}

}  // namespace dendrite
