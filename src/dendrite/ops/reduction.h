// Reductions over axes. An empty axis list reduces over every axis; keepdim keeps reduced axes as
// size 1 (PyTorch semantics).
#pragma once

#include <vector>

#include "dendrite/ops/tensor.h"

namespace dendrite {

Tensor sum(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
// The maximum over axes (torch.amax): the gradient is shared equally between tied maxima.
Tensor max(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Tensor min(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
// Index (i64) of the first maximum along axis; not differentiable.
Tensor argmax(const Tensor& x, int64_t axis, bool keepdim = false);

// Sums `grad` over the axes along which `shape` was broadcast, giving a tensor of `shape`:
// the backward of every broadcasting op.
Tensor sum_to_shape(const Tensor& grad, const Shape& shape);

}  // namespace dendrite
