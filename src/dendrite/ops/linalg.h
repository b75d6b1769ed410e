// Matrix products. matmul follows torch.matmul: 1-D operands are promoted to matrices, batch
// dimensions broadcast. linear(x, w, b) = x @ w^T + b with w of shape [out, in] (torch's layout).
#pragma once

#include "dendrite/ops/tensor.h"

namespace dendrite {

Tensor matmul(const Tensor& a, const Tensor& b);
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});

}  // namespace dendrite
