// Helpers shared by the nn tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dendrite/nn/nn.h"
#include "dendrite/ops/ops.h"
#include "support/errors.h"

namespace dendrite::nn::testing {

using test_support::error_of;
using test_support::expect_error;

inline void expect_near(const Tensor& a, const Tensor& b, double tol = 1e-5) {
  ASSERT_EQ(a.shape(), b.shape());
  std::vector<double> x = to_vector<double>(a), y = to_vector<double>(b);
  for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(x[i], y[i], tol) << "element " << i;
}

inline std::vector<std::string> names_of(const NamedTensors& tensors) {
  std::vector<std::string> names;
  for (const auto& [name, t] : tensors) names.push_back(name);
  return names;
}

inline double value(const Tensor& t) { return t.item<double>(); }

}  // namespace dendrite::nn::testing
