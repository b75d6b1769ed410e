// 2-D max and average pooling on NCHW tensors.
#pragma once

#include <array>

#include "dendrite/ops/tensor.h"

namespace dendrite {

// stride defaults to the kernel size (PyTorch's default), written as {0, 0}.
Tensor max_pool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride = {0, 0},
                  std::array<int64_t, 2> padding = {0, 0});
Tensor avg_pool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride = {0, 0},
                  std::array<int64_t, 2> padding = {0, 0}, bool count_include_pad = true);

}  // namespace dendrite
