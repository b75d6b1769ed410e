// Losses against values worked out by hand, and the gradient of BCE-with-logits against central
// finite differences in f64.
#include <cmath>

#include "nn_test_util.h"

namespace dendrite::nn {
namespace {

using testing::value;

TEST(Losses, CrossEntropyByHand) {
  // Logits [0, ln 3] for one sample: softmax = [1/4, 3/4].
  Tensor logits = tensor<double>({0.0, std::log(3.0), 0.0, 0.0}, {2, 2});
  Tensor labels = tensor<int64_t>({1, 0});
  const double l0 = -std::log(0.75), l1 = std::log(2.0);
  EXPECT_NEAR(value(cross_entropy(logits, labels)), (l0 + l1) / 2, 1e-12);
  EXPECT_NEAR(value(cross_entropy(logits, labels, {.reduction = Reduction::sum})), l0 + l1, 1e-12);
  EXPECT_EQ(cross_entropy(logits, labels, {.reduction = Reduction::none}).shape(), (Shape{2}));
  // Label smoothing e over C classes: the target is (1 - e) one-hot + e / C.
  const double e = 0.2;
  const double s0 = -(1 - e / 2) * std::log(0.75) - (e / 2) * std::log(0.25);
  const double s1 = std::log(2.0);
  EXPECT_NEAR(value(cross_entropy(logits, labels, {.label_smoothing = e})), (s0 + s1) / 2, 1e-12);
  // nn::cross_entropy is the ops function itself.
  EXPECT_EQ(value(nn::cross_entropy(logits, labels)), value(dendrite::cross_entropy(logits, labels)));
}

TEST(Losses, MseByHand) {
  Tensor a = tensor<double>({1, 2, 3, 4}, {2, 2});
  Tensor b = tensor<double>({0, 2, 5, 1}, {2, 2});
  EXPECT_DOUBLE_EQ(value(mse_loss(a, b)), (1 + 0 + 4 + 9) / 4.0);
  EXPECT_DOUBLE_EQ(value(mse_loss(a, b, Reduction::sum)), 14.0);
  EXPECT_EQ(to_vector<double>(mse_loss(a, b, Reduction::none)), (std::vector<double>{1, 0, 4, 9}));
  Tensor p = tensor<double>({1, 2, 3, 4}, {2, 2}).requires_grad_();
  mse_loss(p, b).backward();
  // d/dp mean((p - b)^2) = 2 (p - b) / 4.
  EXPECT_EQ(to_vector<double>(p.grad()), (std::vector<double>{0.5, 0, -1, 1.5}));
}

double bce_by_hand(double x, double y) {
  const double s = 1.0 / (1.0 + std::exp(-x));
  return -(y * std::log(s) + (1 - y) * std::log(1 - s));
}

TEST(Losses, BceWithLogitsByHand) {
  const std::vector<double> x{-2.0, 0.0, 0.5, 3.0}, y{0.0, 1.0, 0.3, 1.0};
  Tensor loss = binary_cross_entropy_with_logits(tensor<double>(x), tensor<double>(y), Reduction::none);
  std::vector<double> got = to_vector<double>(loss);
  double total = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(got[i], bce_by_hand(x[i], y[i]), 1e-12) << i;
    total += bce_by_hand(x[i], y[i]);
  }
  EXPECT_NEAR(value(binary_cross_entropy_with_logits(tensor<double>(x), tensor<double>(y))), total / 4, 1e-12);
  EXPECT_NEAR(value(binary_cross_entropy_with_logits(tensor<double>(x), tensor<double>(y), Reduction::sum)), total,
              1e-12);
}

TEST(Losses, BceWithLogitsIsStableForLargeLogits) {
  // sigmoid(+-100) rounds to 1 or 0 in any float type; the stable form still gives the exact loss.
  Tensor x = tensor<float>({100.0f, -100.0f, 100.0f});
  Tensor y = tensor<float>({1.0f, 0.0f, 0.0f});
  std::vector<float> loss = to_vector<float>(binary_cross_entropy_with_logits(x, y, Reduction::none));
  EXPECT_NEAR(loss[0], 0.0f, 1e-30f);
  EXPECT_NEAR(loss[1], 0.0f, 1e-30f);
  EXPECT_FLOAT_EQ(loss[2], 100.0f);
  for (float v : loss) EXPECT_TRUE(std::isfinite(v));
}

TEST(Losses, BceWithLogitsGradientMatchesFiniteDifferences) {
  Generator gen(11);
  Tensor x = normal({3, 5}, 0.0, 3.0, DType::f64, gen);
  Tensor y = uniform({3, 5}, 0.0, 1.0, DType::f64, gen);
  x.requires_grad_();
  binary_cross_entropy_with_logits(x, y).backward();
  std::vector<double> analytic = to_vector<double>(x.grad());
  std::vector<double> xs = to_vector<double>(x), ys = to_vector<double>(y);
  const double h = 1e-6;
  for (size_t i = 0; i < xs.size(); ++i) {
    auto loss_at = [&](double xi) {
      std::vector<double> shifted = xs;
      shifted[i] = xi;
      return value(binary_cross_entropy_with_logits(tensor<double>(shifted, {3, 5}), y));
    };
    const double numeric = (loss_at(xs[i] + h) - loss_at(xs[i] - h)) / (2 * h);
    EXPECT_NEAR(analytic[i], numeric, 1e-7) << i;
    // And the closed form: (sigmoid(x) - y) / numel.
    EXPECT_NEAR(analytic[i], (1.0 / (1.0 + std::exp(-xs[i])) - ys[i]) / 15.0, 1e-12) << i;
  }
}

TEST(Losses, BceWithLogitsGradientAtZeroLogit) {
  // A zero-initialised last layer gives logits of exactly 0; the gradient must be sigmoid(0) - y.
  Tensor x = zeros({3}, DType::f64).requires_grad_();
  Tensor y = tensor<double>({0.0, 1.0, 0.25});
  binary_cross_entropy_with_logits(x, y, Reduction::sum).backward();
  EXPECT_EQ(to_vector<double>(x.grad()), (std::vector<double>{0.5, -0.5, 0.25}));
}

TEST(Losses, Errors) {
  testing::expect_error(
      [] {
        mse_loss(zeros({4, 3}), zeros({4, 2}));
      },
      {"mse_loss: input [4, 3] and target [4, 2] differ in shape"});
  testing::expect_error([] { mse_loss(zeros({2}), zeros({2}, DType::f64)); },
                        {"mse_loss: dtypes differ", "input f32 [2]", "target f64 [2]"});
  testing::expect_error([] { mse_loss(zeros({2}, DType::i64), zeros({2}, DType::i64)); },
                        {"mse_loss: needs floating-point tensors", "i64 [2]"});
  testing::expect_error(
      [] {
        binary_cross_entropy_with_logits(zeros({8, 1}), zeros({8}));
      },
      {"binary_cross_entropy_with_logits: logits [8, 1] and targets [8] differ in shape"});
  testing::expect_error([] { binary_cross_entropy_with_logits(zeros({8}), zeros({8}, DType::i64)); },
                        {"binary_cross_entropy_with_logits: dtypes differ", "targets i64 [8]"});
}

}  // namespace
}  // namespace dendrite::nn
