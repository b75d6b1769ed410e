// Global-norm gradient clipping: the norm over all gradients, scaling only above max_norm (by
// PyTorch's max_norm / (norm + 1e-6)), skipped parameters, non-finite norms and argument checks.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "optim/optim_test_util.h"

namespace dendrite::optim {
namespace {

Tensor param_with_grad(const std::vector<float>& grad) {
  const Shape shape = {static_cast<int64_t>(grad.size())};
  Tensor p = zeros(shape);
  p.requires_grad_();
  p.set_grad(tensor<float>(grad, shape));
  return p;
}

TEST(ClipTest, ScalesAllGradientsByTheGlobalNorm) {
  Tensor a = param_with_grad({3, 0});
  Tensor b = param_with_grad({0, 4, 0});  // global norm 5
  Tensor none = zeros({2}).requires_grad_();
  const double norm = clip_grad_norm_(nn::NamedTensors{{"a", a}, {"b", b}, {"none", none}}, 1.0);
  EXPECT_DOUBLE_EQ(norm, 5.0);
  const float scale = static_cast<float>(1.0 / (5.0 + 1e-6));
  EXPECT_EQ(to_vector<float>(a.grad()), (std::vector<float>{3 * scale, 0}));
  EXPECT_EQ(to_vector<float>(b.grad()), (std::vector<float>{0, 4 * scale, 0}));
  EXPECT_FALSE(none.grad().defined());
  EXPECT_NEAR(grad_norm({a, b}), 1.0, 1e-6);
}

TEST(ClipTest, LeavesSmallGradientsAlone) {
  Tensor a = param_with_grad({0.3f, -0.4f});
  EXPECT_NEAR(clip_grad_norm_(std::vector<Tensor>{a}, 1.0), 0.5, 1e-7);
  EXPECT_EQ(to_vector<float>(a.grad()), (std::vector<float>{0.3f, -0.4f}));
}

TEST(ClipTest, LargeNonContiguousAndMixedDtypes) {
  // 3 * 40000 ones (threads share the blocks) plus a transposed f64 gradient.
  Tensor big = zeros({120000}).requires_grad_();
  big.set_grad(ones({120000}));
  Tensor small = zeros({2, 2}, DType::f64).requires_grad_();
  small.set_grad(tensor<double>({1, 2, 3, 4}, {2, 2}).t());
  const double expected = std::sqrt(120000.0 + 30.0);
  EXPECT_NEAR(clip_grad_norm_(std::vector<Tensor>{big, small}, 2.0), expected, 1e-9);
  EXPECT_NEAR(grad_norm({big, small}), 2.0, 1e-6);
  EXPECT_NEAR(to_vector<double>(small.grad())[1], 3.0 * 2.0 / (expected + 1e-6), 1e-12);
}

TEST(ClipTest, NonFiniteNormLeavesGradientsUntouched) {
  Tensor a = param_with_grad({1, std::numeric_limits<float>::infinity()});
  Tensor b = param_with_grad({2, 2});
  EXPECT_TRUE(std::isinf(clip_grad_norm_(std::vector<Tensor>{a, b}, 1.0)));
  EXPECT_EQ(to_vector<float>(b.grad()), (std::vector<float>{2, 2}));
  Tensor c = param_with_grad({std::numeric_limits<float>::quiet_NaN()});
  EXPECT_TRUE(std::isnan(clip_grad_norm_(std::vector<Tensor>{b, c}, 1.0)));
  EXPECT_EQ(to_vector<float>(b.grad()), (std::vector<float>{2, 2}));
}

TEST(ClipTest, Errors) {
  Tensor a = param_with_grad({1});
  try {
    clip_grad_norm_(std::vector<Tensor>{a}, 0.0);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "clip_grad_norm_: max_norm must be positive, got 0");
  }
  try {
    clip_grad_norm_(std::vector<Tensor>{a, Tensor()}, 1.0);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "clip_grad_norm_: parameter 1 is an undefined tensor");
  }
}

}  // namespace
}  // namespace dendrite::optim
