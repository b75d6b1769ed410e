// Layer and batch normalisation.
#pragma once

#include "dendrite/ops/tensor.h"

namespace dendrite {

// Normalises over the trailing dimensions given by normalized_shape; weight/bias of that shape
// or undefined.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

// x [N, C, ...]. In training, normalises with batch statistics and, when running_mean and
// running_var are given, updates them in place (momentum as in PyTorch, unbiased variance);
// in evaluation, uses the running statistics.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum = 0.1,
                  double eps = 1e-5);

}  // namespace dendrite
