// The cpu argmax kernel (KernelTraits<OpId::argmax>), registered by register_reduce with the
// other reductions; it lives in its own file because it walks memory its own way.
#pragma once

#include <cstdint>

#include "dendrite/core/tensor_base.h"

namespace dendrite::kernels::cpu {

// out (i64, x's shape with `axis` of size 1) = index of the first maximum of x along axis.
void argmax(const TensorBase& x, int64_t axis, const TensorBase& out);

}  // namespace dendrite::kernels::cpu
