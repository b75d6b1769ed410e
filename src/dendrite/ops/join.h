// Joining and splitting along an axis.
#pragma once

#include <vector>

#include "dendrite/ops/tensor.h"

namespace dendrite {

Tensor concat(const std::vector<Tensor>& tensors, int64_t axis = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t axis = 0);
// Pieces of `size` along axis (the last may be smaller), as views.
std::vector<Tensor> split(const Tensor& x, int64_t size, int64_t axis = 0);
// Pieces with the given sizes along axis; the sizes must add up to the axis length.
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis = 0);

}  // namespace dendrite
