// Helpers of the kernel tests that run a cpu kernel and its reference on the same buffers and
// compare what both wrote (lstm_kernel_test.cpp, gru_kernel_test.cpp).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "dendrite/core/random.h"
#include "dendrite/core/tensor_base.h"

namespace dendrite::kernels::testing {

inline TensorBase random(const Shape& shape, DType dtype, Generator& gen, double scale = 1.0) {
  TensorBase t = TensorBase::empty(shape, dtype);
  fill_normal(t, 0.0, scale, gen);
  return t;
}

// A contiguous copy of a contiguous tensor (undefined stays undefined).
inline TensorBase clone(const TensorBase& t) {
  if (!t.defined()) return {};
  TensorBase c = TensorBase::empty(t.shape(), t.dtype());
  std::memcpy(c.raw_data(), t.raw_data(), static_cast<size_t>(t.numel()) * element_size(t.dtype()));
  return c;
}

inline std::vector<double> values(const TensorBase& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  visit_dtype(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = static_cast<const T*>(t.raw_data());
    for (size_t i = 0; i < v.size(); ++i) v[i] = convert<double>(p[i]);
  });
  return v;
}

// Every element within a relative tolerance: the cpu kernels compute in the operands' type, the
// reference in double.
inline void expect_close(const TensorBase& got, const TensorBase& want, const std::string& what) {
  ASSERT_EQ(got.defined(), want.defined()) << what;
  if (!got.defined()) return;
  const std::vector<double> g = values(got), w = values(want);
  ASSERT_EQ(g.size(), w.size()) << what;
  const double tol = got.dtype() == DType::f32 ? 2e-6 : 1e-13;
  for (size_t i = 0; i < g.size(); ++i) {
    ASSERT_NEAR(g[i], w[i], tol * (1.0 + std::abs(w[i]))) << what << ", element " << i;
  }
}

// [B, W] columns [from, from + width) of a buffer.
inline TensorBase columns(const TensorBase& m, int64_t from, int64_t width) {
  return m.as_strided({m.size(0), width}, m.strides(), m.offset() + from * m.stride(1));
}

}  // namespace dendrite::kernels::testing
