// Loss functions: (prediction, target) -> a scalar (mean or sum over elements) or, with
// Reduction::none, one loss per element (per sample for cross-entropy).
#pragma once

#include "dendrite/ops/softmax.h"
#include "dendrite/ops/tensor.h"

namespace dendrite::nn {

using dendrite::CrossEntropyOptions;
using dendrite::Reduction;

// Cross-entropy of logits [N, C] against integer labels [N], with label smoothing
// ({.label_smoothing = 0.1}) and reduction: the fused op of ops/softmax.h. It is brought in by a
// using-declaration rather than wrapped, so that nn::cross_entropy and dendrite::cross_entropy are
// one function and an unqualified call (found by argument-dependent lookup) is never ambiguous.
using dendrite::cross_entropy;

// Mean squared error: (input - target)^2; input and target must have the same shape and dtype.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);

// Binary cross-entropy on logits against targets in [0, 1] of the same shape:
//   -[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] = max(x, 0) - x y + log(1 + exp(-|x|)),
// the form that neither overflows nor loses log(sigmoid) to rounding for large |x|.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets,
                                        Reduction reduction = Reduction::mean);

}  // namespace dendrite::nn
