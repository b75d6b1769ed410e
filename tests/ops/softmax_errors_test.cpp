// Bad inputs to softmax, log_softmax and cross_entropy: each throws a dendrite::Error that names the
// op and the offending values. A few known values follow, because the conformance table compares
// backends with the reference and gradients with finite differences, but nothing checks the
// reference's forward against an independent answer.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "dendrite/ops/ops.h"
#include "support/errors.h"

namespace dendrite {
namespace {

using test_support::error_of;

Tensor logits_4x10() { return zeros({4, 10}); }

TEST(CrossEntropyErrors, LabelOutOfRangeNamesLabelPositionAndClasses) {
  Tensor labels = tensor<int64_t>({0, 1, 2, 12});
  EXPECT_EQ(error_of([&] { cross_entropy(logits_4x10(), labels); }),
            "cross_entropy: label 12 at position 3 is out of range [0, 10)");
}

TEST(CrossEntropyErrors, NegativeLabel) {
  Tensor labels = tensor<int32_t>({0, -1, 2, 3});
  EXPECT_EQ(error_of([&] { cross_entropy(logits_4x10(), labels); }),
            "cross_entropy: label -1 at position 1 is out of range [0, 10)");
}

TEST(CrossEntropyErrors, LabelShapeMustBeN) {
  std::string column = error_of([&] { cross_entropy(logits_4x10(), zeros({4, 1}, DType::i64)); });
  EXPECT_CONTAINS(column, "cross_entropy: labels must be [4] to match logits [4, 10], got [4, 1]");
  std::string short_batch = error_of([&] { cross_entropy(logits_4x10(), zeros({3}, DType::i64)); });
  EXPECT_CONTAINS(short_batch, "got [3]");
}

TEST(CrossEntropyErrors, LabelsMustBeInteger) {
  std::string message = error_of([&] { cross_entropy(logits_4x10(), zeros({4})); });
  EXPECT_CONTAINS(message, "cross_entropy: labels must be integer");
  EXPECT_CONTAINS(message, "f32 [4]");
}

TEST(CrossEntropyErrors, LogitsMustBeRank2) {
  EXPECT_CONTAINS(error_of([&] { cross_entropy(zeros({2, 3, 4}), zeros({2}, DType::i64)); }),
                  "cross_entropy: logits must be [N, C], got [2, 3, 4]");
}

TEST(CrossEntropyErrors, LabelSmoothingOutsideUnitInterval) {
  Tensor labels = zeros({4}, DType::i64);
  EXPECT_CONTAINS(error_of([&] { cross_entropy(logits_4x10(), labels, {.label_smoothing = 1.5}); }),
                  "cross_entropy: label_smoothing must be in [0, 1], got 1.5");
  EXPECT_CONTAINS(error_of([&] { cross_entropy(logits_4x10(), labels, {.label_smoothing = -0.1}); }), "got -0.1");
  EXPECT_CONTAINS(error_of([&] { cross_entropy(logits_4x10(), labels, {.label_smoothing = NAN}); }), "got nan");
}

TEST(SoftmaxErrors, AxisOutOfRange) {
  EXPECT_CONTAINS(error_of([] { softmax(zeros({2, 3}), 2); }),
                  "softmax: axis 2 is out of range for a tensor of rank 2");
  EXPECT_CONTAINS(error_of([] { log_softmax(zeros({2, 3}), -3); }),
                  "log_softmax: axis -3 is out of range for a tensor of rank 2");
}

TEST(SoftmaxErrors, IntegerInput) {
  EXPECT_CONTAINS(error_of([] { softmax(zeros({2, 3}, DType::i32)); }),
                  "softmax: needs a floating-point tensor, got i32 [2, 3]");
}

// --- known values ---------------------------------------------------------------------------

void expect_values(const Tensor& t, const std::vector<double>& want, double tol = 1e-6) {
  std::vector<double> got = to_vector<double>(t);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

TEST(SoftmaxValues, LargeLogitsDoNotOverflow) {
  // softmax([1000, 1001]) = [1 / (1 + e), e / (1 + e)]: exp(1000) alone would be inf.
  Tensor y = softmax(tensor<float>({1000.0f, 1001.0f}));
  const double e = std::exp(1.0);
  expect_values(y, {1 / (1 + e), e / (1 + e)});
  expect_values(log_softmax(tensor<float>({1000.0f, 1001.0f})), {-std::log(1 + e), 1 - std::log(1 + e)}, 1e-5);
}

TEST(SoftmaxValues, AxisZeroOfTransposedInput) {
  // x^T = [[0, ln 3], [0, 0]]; softmax over axis 0 of x = rows of x^T normalised.
  Tensor base = tensor<double>({0.0, std::log(3.0), 0.0, 0.0}, {2, 2});
  expect_values(softmax(base.t(), 0), {0.25, 0.5, 0.75, 0.5});
}

TEST(CrossEntropyValues, MatchesHandComputedLoss) {
  Tensor logits = tensor<double>({1, 2, 3, 1, 1, 1}, {2, 3});
  Tensor labels = tensor<int64_t>({2, 0});
  const double lse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  const double l0 = lse0 - 3, l1 = std::log(3.0);
  expect_values(cross_entropy(logits, labels, {.reduction = Reduction::none}), {l0, l1});
  expect_values(cross_entropy(logits, labels, {.reduction = Reduction::sum}), {l0 + l1});
  expect_values(cross_entropy(logits, labels), {(l0 + l1) / 2});
  // Smoothing s spreads s / C of the target over every class.
  const double s = 0.1;
  const double mean_nll0 = lse0 - 2;  // -(1/3) * sum_c logp[0, c] = lse0 - mean(logits[0])
  expect_values(cross_entropy(logits, labels, {.reduction = Reduction::none, .label_smoothing = s}),
                {(1 - s) * l0 + s * mean_nll0, l1});
}

TEST(CrossEntropyValues, MeanGradientIsSoftmaxMinusOneHotOverN) {
  Tensor logits = tensor<double>({0, 0, 0, 0, std::log(3.0), 0}, {2, 3}).requires_grad_();
  cross_entropy(logits, tensor<int32_t>({1, 0})).backward();
  expect_values(logits.grad(), {1.0 / 6, -1.0 / 3, 1.0 / 6, -0.4, 0.3, 0.1});
}

}  // namespace
}  // namespace dendrite
