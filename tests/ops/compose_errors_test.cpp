// User errors of the composite ops (concat/stack/split, layer_norm, batch_norm, dropout): each is a
// dendrite::Error whose message names the op and the offending shapes, plus the value semantics
// that the conformance table cannot see (exact values, views, running-statistics updates).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "dendrite/ops/ops.h"
#include "support/errors.h"

namespace dendrite {
namespace {

using test_support::error_of;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::vector<float> values(const Tensor& t) { return to_vector<float>(t); }

// --- concat / stack / split -------------------------------------------------------------------

TEST(ConcatTest, JoinsAlongAxisWithValues) {
  Tensor a = tensor<float>({1, 2, 3, 4}, {2, 2});
  Tensor b = tensor<float>({5, 6}, {1, 2});
  Tensor rows = concat({a, b}, 0);
  EXPECT_EQ(rows.shape(), (Shape{3, 2}));
  EXPECT_EQ(values(rows), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  Tensor cols = concat({a, b.t(), a.t()}, -1);  // transposed operands are read by their strides
  EXPECT_EQ(cols.shape(), (Shape{2, 5}));
  EXPECT_EQ(values(cols), (std::vector<float>{1, 2, 5, 1, 3, 3, 4, 6, 2, 4}));
}

TEST(ConcatTest, SingleTensorAndEmptyPieces) {
  Tensor a = tensor<float>({1, 2, 3}, {1, 3});
  Tensor none = zeros({0, 3});
  Tensor out = concat({none, a, none}, 0);
  EXPECT_EQ(out.shape(), (Shape{1, 3}));
  EXPECT_EQ(values(out), values(a));
  EXPECT_FALSE(out.storage().data() == a.storage().data()) << "concat returns a new tensor";
}

TEST(ConcatTest, BackwardSlicesTheGradient) {
  Tensor a = tensor<float>({1, 2, 3, 4}, {2, 2}).requires_grad_();
  Tensor b = tensor<float>({5, 6}, {2, 1}).requires_grad_();
  Tensor w = tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  sum(concat({a, b}, 1) * w).backward();
  EXPECT_EQ(values(a.grad()), (std::vector<float>{1, 2, 4, 5}));
  EXPECT_EQ(values(b.grad()), (std::vector<float>{3, 6}));
}

TEST(ConcatTest, IntegerTensorsRecordNothing) {
  Tensor a = arange(0, 4).reshape({2, 2});
  Tensor out = concat({a, a}, 1);
  EXPECT_EQ(out.dtype(), DType::i64);
  EXPECT_EQ(to_vector<int64_t>(out), (std::vector<int64_t>{0, 1, 0, 1, 2, 3, 2, 3}));
  EXPECT_FALSE(out.requires_grad());
}

TEST(ConcatTest, Errors) {
  Tensor a = zeros({2, 3});
  EXPECT_THAT(error_of([] { concat({}, 0); }), HasSubstr("concat: expects a non-empty list of tensors"));
  EXPECT_THAT(
      error_of([&] {
        concat({a, zeros({2, 3, 1})}, 0);
      }),
      AllOf(HasSubstr("concat: ranks differ"), HasSubstr("[2, 3]"), HasSubstr("tensor 1"), HasSubstr("[2, 3, 1]")));
  EXPECT_THAT(error_of([&] {
                concat({a, a, zeros({2, 4})}, 0);
              }),
              AllOf(HasSubstr("concat: shapes differ off axis 0"), HasSubstr("tensor 0 has shape [2, 3]"),
                    HasSubstr("tensor 2 has shape [2, 4]")));
  EXPECT_THAT(error_of([&] {
                concat({a, zeros({2, 3}, DType::f64)}, 1);
              }),
              AllOf(HasSubstr("concat: dtypes differ"), HasSubstr("f32 [2, 3]"), HasSubstr("f64 [2, 3]")));
  EXPECT_THAT(error_of([&] { concat({a, a}, 2); }), HasSubstr("concat: axis 2 is out of range for a tensor of rank 2"));
  EXPECT_THAT(error_of([] {
                concat({scalar_tensor(1.0), scalar_tensor(2.0)}, 0);
              }),
              HasSubstr("concat: zero-dimensional tensors cannot be concatenated"));
  EXPECT_THAT(error_of([&] { concat({a, Tensor()}, 0); }), HasSubstr("concat: tensor 1 is undefined"));
}

TEST(StackTest, NewAxisAnywhere) {
  Tensor a = tensor<float>({1, 2, 3}), b = tensor<float>({4, 5, 6});
  Tensor front = stack({a, b});
  EXPECT_EQ(front.shape(), (Shape{2, 3}));
  EXPECT_EQ(values(front), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  Tensor back = stack({a, b}, -1);
  EXPECT_EQ(back.shape(), (Shape{3, 2}));
  EXPECT_EQ(values(back), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  Tensor scalars = stack({scalar_tensor(1.0), scalar_tensor(2.0)});
  EXPECT_EQ(scalars.shape(), (Shape{2}));
}

TEST(StackTest, Errors) {
  EXPECT_THAT(error_of([] { stack({}, 0); }), HasSubstr("stack: expects a non-empty list of tensors"));
  EXPECT_THAT(error_of([] {
                stack({zeros({2, 3}), zeros({3, 2})});
              }),
              AllOf(HasSubstr("stack: shapes differ"), HasSubstr("tensor 0 has shape [2, 3]"),
                    HasSubstr("tensor 1 has shape [3, 2]")));
  EXPECT_THAT(error_of([] {
                stack({zeros({2}), zeros({2})}, 2);
              }),
              HasSubstr("stack: axis 2 is out of range for a tensor of rank 2"));
}

TEST(SplitTest, PiecesAreViews) {
  Tensor x = arange(0, 10, 1, DType::f32).reshape({5, 2});
  auto pieces = split(x, 2);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(pieces[2].shape(), (Shape{1, 2}));
  EXPECT_EQ(values(pieces[2]), (std::vector<float>{8, 9}));
  for (const Tensor& p : pieces) EXPECT_EQ(p.storage().data(), x.storage().data());
  auto cols = split(x, std::vector<int64_t>{1, 0, 1}, 1);
  ASSERT_EQ(cols.size(), 3u);
  EXPECT_EQ(values(cols[0]), (std::vector<float>{0, 2, 4, 6, 8}));
  EXPECT_EQ(cols[1].shape(), (Shape{5, 0}));
  EXPECT_EQ(values(cols[2]), (std::vector<float>{1, 3, 5, 7, 9}));
  EXPECT_EQ(split(x, 7).size(), 1u);
}

TEST(SplitTest, RoundTripsThroughConcat) {
  Tensor x = randn({4, 6});
  EXPECT_EQ(values(concat(split(x, std::vector<int64_t>{2, 3, 1}, 1), 1)), values(x));
}

TEST(SplitTest, Errors) {
  Tensor x = zeros({4, 6});
  EXPECT_THAT(error_of([&] {
                split(x, std::vector<int64_t>{2, 3}, 1);
              }),
              AllOf(HasSubstr("split: sizes [2, 3] add up to 5"), HasSubstr("axis 1 of [4, 6] has size 6")));
  EXPECT_THAT(error_of([&] {
                split(x, std::vector<int64_t>{5, -1}, 0);
              }),
              HasSubstr("split: sizes [5, -1] contain the negative size -1"));
  EXPECT_THAT(error_of([&] { split(x, 0); }), HasSubstr("split: size must be positive, got 0"));
  EXPECT_THAT(error_of([&] { split(x, 2, 3); }), HasSubstr("split: axis 3 is out of range for a tensor of rank 2"));
  EXPECT_THAT(error_of([] { split(scalar_tensor(1.0), 1); }),
              HasSubstr("split: cannot split a zero-dimensional tensor"));
}

// --- layer_norm ---------------------------------------------------------------------------------

TEST(LayerNormTest, NormalisesTrailingDims) {
  Tensor x = tensor<float>({1, 2, 3, 4, 10, 10, 10, 14}, {2, 4});
  Tensor y = layer_norm(x, {4}, {}, {}, 0.0);
  // Row 0: mean 2.5, biased var 1.25.
  std::vector<float> got = values(y);
  const float s = 1.0f / std::sqrt(1.25f);
  EXPECT_NEAR(got[0], -1.5f * s, 1e-5);
  EXPECT_NEAR(got[3], 1.5f * s, 1e-5);
  // Row 1: mean 11, biased var 3.
  EXPECT_NEAR(got[7], 3.0f / std::sqrt(3.0f), 1e-5);
  Tensor w = tensor<float>({1, 2, 3, 4}), b = tensor<float>({0, 0, 0, 1});
  std::vector<float> affine = values(layer_norm(x, {4}, w, b, 0.0));
  EXPECT_NEAR(affine[3], 4 * 1.5f * s + 1, 1e-5);
}

TEST(LayerNormTest, Errors) {
  Tensor x = zeros({2, 3, 4});
  EXPECT_THAT(error_of([&] { layer_norm(x, {3}); }),
              HasSubstr("layer_norm: normalized_shape [3] does not match the trailing dimensions of input [2, 3, 4]"));
  EXPECT_THAT(error_of([&] {
                layer_norm(x, {1, 2, 3, 4});
              }),
              HasSubstr("normalized_shape [1, 2, 3, 4] does not match the trailing dimensions of input [2, 3, 4]"));
  EXPECT_THAT(error_of([&] { layer_norm(x, {}); }), HasSubstr("layer_norm: normalized_shape must not be empty"));
  EXPECT_THAT(error_of([&] {
                layer_norm(x, {3, 4}, zeros({4}));
              }),
              HasSubstr("layer_norm: weight has shape [4], expected normalized_shape [3, 4] for input [2, 3, 4]"));
  EXPECT_THAT(error_of([&] { layer_norm(x, {4}, zeros({4}), zeros({3})); }),
              HasSubstr("layer_norm: bias has shape [3], expected normalized_shape [4]"));
  EXPECT_THAT(error_of([&] { layer_norm(x, {4}, zeros({4}, DType::f64)); }),
              HasSubstr("layer_norm: weight is f64 [4] but the input is f32 [2, 3, 4]"));
  EXPECT_THAT(error_of([] {
                layer_norm(zeros({2, 3}, DType::i64), {3});
              }),
              HasSubstr("layer_norm: needs a floating-point tensor, got i64 [2, 3]"));
}

// --- batch_norm ---------------------------------------------------------------------------------

TEST(BatchNormTest, TrainingUsesBatchStatsAndUpdatesRunningStats) {
  // Channel 0 holds 1, 3, 5, 7 (mean 4, biased var 5, unbiased var 20/3); channel 1 is constant 2.
  Tensor x = tensor<float>({1, 3, 2, 2, 5, 7, 2, 2}, {2, 2, 2});
  Tensor running_mean = zeros({2}), running_var = ones({2});
  Tensor y = batch_norm(x, running_mean, running_var, {}, {}, true, 0.1, 0.0);
  std::vector<float> got = values(y);
  EXPECT_NEAR(got[0], -3.0f / std::sqrt(5.0f), 1e-5);
  EXPECT_NEAR(got[5], 3.0f / std::sqrt(5.0f), 1e-5);
  std::vector<float> rm = values(running_mean), rv = values(running_var);
  EXPECT_NEAR(rm[0], 0.4f, 1e-6);
  EXPECT_NEAR(rm[1], 0.2f, 1e-6);
  EXPECT_NEAR(rv[0], 0.9f + 0.1f * 20.0f / 3.0f, 1e-5);
  EXPECT_NEAR(rv[1], 0.9f, 1e-6);
  EXPECT_FALSE(running_mean.requires_grad());
}

TEST(BatchNormTest, TrainingWithGradAndNoRunningStats) {
  Tensor x = randn({4, 3, 2}).requires_grad_();
  Tensor w = ones({3}).requires_grad_(), b = zeros({3}).requires_grad_();
  Tensor y = batch_norm(x, {}, {}, w, b, true);
  sum(y).backward();  // the sum of a normalised channel does not depend on x
  for (float g : values(x.grad())) EXPECT_NEAR(g, 0.0f, 1e-5);
  for (float g : values(b.grad())) EXPECT_FLOAT_EQ(g, 8.0f);
}

TEST(BatchNormTest, EvalUsesRunningStats) {
  Tensor x = tensor<float>({1, 2, 3, 4}, {2, 2});
  Tensor running_mean = tensor<float>({1, 2}), running_var = tensor<float>({4, 1});
  Tensor w = tensor<float>({2, 1}), b = tensor<float>({0, 10});
  std::vector<float> got = values(batch_norm(x, running_mean, running_var, w, b, false, 0.1, 0.0));
  EXPECT_EQ(got, (std::vector<float>{0, 10, 2, 12}));
  EXPECT_EQ(values(running_mean), (std::vector<float>{1, 2})) << "evaluation leaves the statistics alone";
}

TEST(BatchNormTest, Errors) {
  Tensor c3 = zeros({3});
  EXPECT_THAT(error_of([&] { batch_norm(zeros({5}), c3, c3, c3, c3, true); }),
              HasSubstr("batch_norm: expects an input of rank >= 2 [N, C, ...], got shape [5]"));
  EXPECT_THAT(error_of([&] {
                batch_norm(zeros({2, 4}), c3, c3, {}, {}, true);
              }),
              HasSubstr("batch_norm: running_mean has shape [3], expected [C] = [4] for input [2, 4]"));
  EXPECT_THAT(error_of([&] {
                batch_norm(zeros({2, 3}), c3, zeros({2}), {}, {}, true);
              }),
              HasSubstr("batch_norm: running_var has shape [2], expected [C] = [3]"));
  EXPECT_THAT(error_of([&] {
                batch_norm(zeros({2, 3}), c3, c3, zeros({3, 1}), {}, true);
              }),
              HasSubstr("batch_norm: weight has shape [3, 1], expected [C] = [3]"));
  EXPECT_THAT(error_of([&] {
                batch_norm(zeros({2, 3}), c3, c3, c3, zeros({4}), true);
              }),
              HasSubstr("batch_norm: bias has shape [4], expected [C] = [3]"));
  EXPECT_THAT(error_of([&] {
                batch_norm(zeros({1, 3}), c3, c3, {}, {}, true);
              }),
              HasSubstr("batch_norm: expected more than 1 value per channel when training, got input [1, 3]"));
  EXPECT_THAT(error_of([&] {
                batch_norm(zeros({1, 3, 1, 1}), {}, {}, {}, {}, true);
              }),
              HasSubstr("expected more than 1 value per channel when training"));
  EXPECT_NO_THROW(batch_norm(zeros({1, 3}), c3, ones({3}), {}, {}, false)) << "one value is fine in evaluation";
  EXPECT_THAT(error_of([&] {
                batch_norm(zeros({2, 3}), {}, {}, {}, {}, false);
              }),
              HasSubstr("batch_norm: evaluation mode needs running_mean and running_var"));
  EXPECT_THAT(error_of([&] {
                batch_norm(zeros({2, 3}), c3, {}, {}, {}, true);
              }),
              HasSubstr("batch_norm: running_mean and running_var must be given together"));
  EXPECT_THAT(error_of([&] {
                batch_norm(zeros({2, 3}), zeros({3}, DType::f64), c3, {}, {}, true);
              }),
              HasSubstr("batch_norm: running_mean is f64 [3] but the input is f32 [2, 3]"));
}

// --- dropout (see dropout_test.cpp for its statistics) --------------------------------------------

TEST(DropoutErrorsTest, ProbabilityOutOfRange) {
  Tensor x = ones({4});
  EXPECT_THAT(error_of([&] { dropout(x, -0.1, true); }), HasSubstr("dropout: probability must be in [0, 1], got -0.1"));
  EXPECT_THAT(error_of([&] { dropout(x, 1.5, false); }), HasSubstr("dropout: probability must be in [0, 1], got 1.5"));
  EXPECT_THAT(error_of([&] { dropout(x, std::nan(""), true); }), HasSubstr("dropout: probability must be in [0, 1]"));
  EXPECT_THAT(error_of([] { dropout(ones({4}, DType::i32), 0.5, true); }),
              HasSubstr("dropout: needs a floating-point tensor, got i32 [4]"));
}

}  // namespace
}  // namespace dendrite
