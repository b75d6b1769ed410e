// Views share storage with their base and record a backward that maps the gradient back onto the
// base's shape. Free-function spellings of Tensor's view methods, for symmetry with PyTorch.
#pragma once

#include <optional>

#include "dendrite/ops/tensor.h"

namespace dendrite {

Tensor reshape(const Tensor& x, const Shape& shape);
Tensor transpose(const Tensor& x, int64_t axis0, int64_t axis1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& axes);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor squeeze(const Tensor& x, int64_t axis);
Tensor unsqueeze(const Tensor& x, int64_t axis);
Tensor flatten(const Tensor& x, int64_t start_axis = 0, int64_t end_axis = -1);

// The strides that view `x` with `shape` without copying, if there are any (PyTorch's
// computeStride rule: each group of merged/split axes must be contiguous within itself).
std::optional<Strides> view_strides(const TensorBase& x, const Shape& shape);
// Resolves one -1 in `shape` against numel, or throws naming `op` and both shapes.
Shape infer_shape(const char* op, const Shape& shape, int64_t numel, const Shape& from);

}  // namespace dendrite
