// Dropout: zeroes each element with probability p and scales the rest by 1 / (1 - p) in training;
// the identity otherwise.
#pragma once

#include "dendrite/core/random.h"
#include "dendrite/ops/tensor.h"

namespace dendrite {

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen = default_generator());

}  // namespace dendrite
