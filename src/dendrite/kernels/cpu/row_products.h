// Products of a few rows against a weight stored row by row (a Linear's [out, in] weight seen as
// its transposed view): batch-1 inference and other few-row products. The cpu matmul kernel
// (matmul.cpp) tries this first; it lives in its own file because it is hand-vectorised.
#pragma once

#include "dendrite/core/tensor_base.h"

namespace dendrite::kernels::cpu {

// The most rows of `a` a row product takes: the few-row limit matmul.cpp measured for sgemm against
// the matmul primitive (kSgemmMaxRows); this kernel was measured at one row (W5) only.
inline constexpr int64_t kRowProductMaxRows = 4;

// out [M, N] = a [M, K] @ b [K, N] (+ bias [N]) when M <= kRowProductMaxRows, a's rows and b's
// columns are contiguous along K (b is W^T for a row-major W [N, K]), out is dense, and this CPU
// has AVX-512; returns false (nothing written) otherwise, so the caller takes another way.
bool run_row_products(const TensorBase& a, const TensorBase& b, const TensorBase& bias, const TensorBase& out);

}  // namespace dendrite::kernels::cpu
