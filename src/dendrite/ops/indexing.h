// Lookups by integer index: embedding tables, index_select and torch.gather. Out-of-range indices
// throw, naming the index and the bound.
#pragma once

#include "dendrite/ops/tensor.h"

namespace dendrite {

// weight [num, dim], indices (i64/i32) of any shape -> [*indices.shape, dim].
Tensor embedding(const Tensor& weight, const Tensor& indices);
// Rows of x along axis at index (1-D i64/i32).
Tensor index_select(const Tensor& x, int64_t axis, const Tensor& index);
// torch.gather: out[i][j] = x[i][index[i][j]] for axis 1; index has x's rank.
Tensor gather(const Tensor& x, int64_t axis, const Tensor& index);

}  // namespace dendrite
