// Softmax, log-softmax and the fused cross-entropy loss on integer labels.
#pragma once

#include "dendrite/ops/tensor.h"

namespace dendrite {

Tensor softmax(const Tensor& x, int64_t axis = -1);
Tensor log_softmax(const Tensor& x, int64_t axis = -1);

enum class Reduction { none, mean, sum };
struct CrossEntropyOptions {
  Reduction reduction = Reduction::mean;
  double label_smoothing = 0.0;  // in [0, 1]
};
// logits [N, C], labels i64 (or i32) [N] with values in [0, C) -> loss (scalar, or [N] for none).
// log_softmax and the negative log-likelihood are fused: one kernel forward, one backward.
Tensor cross_entropy(const Tensor& logits, const Tensor& labels, const CrossEntropyOptions& options = {});

}  // namespace dendrite
