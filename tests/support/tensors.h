// Raw f32 tensors for the tests below the ops layer (kernels), which have no Tensor ops to make or
// read them.
#pragma once

#include <cstdint>

#include "dendrite/core/random.h"
#include "dendrite/core/tensor_base.h"

namespace dendrite::test_support {

// A fresh contiguous f32 tensor of standard normal values drawn from gen.
inline TensorBase randn(const Shape& shape, Generator& gen) {
  TensorBase t = TensorBase::empty(shape);
  fill_normal(t, 0.0, 1.0, gen);
  return t;
}

// Element i of a contiguous f32 tensor, by its position in storage.
inline float at(const TensorBase& t, int64_t i) { return static_cast<const float*>(t.raw_data())[i]; }

}  // namespace dendrite::test_support
