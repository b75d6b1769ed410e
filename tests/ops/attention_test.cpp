// additive_attention_scores against the same scores composed from primitive ops (values and
// gradients), with and without autograd, and the errors its bad inputs give.
#include <gtest/gtest.h>

#include <cmath>

#include "dendrite/ops/ops.h"
#include "support/errors.h"

namespace dendrite {
namespace {

using test_support::error_of;

Tensor composed_scores(const Tensor& keys, const Tensor& query, const Tensor& v) {
  return matmul(tanh(keys + query.unsqueeze(1)), v);
}

void expect_near(const Tensor& a, const Tensor& b, double tol) {
  std::vector<double> x = to_vector<double>(a), y = to_vector<double>(b);
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], tol) << "element " << i;
}

TEST(AdditiveAttentionScores, MatchesComposed) {
  for (DType dtype : {DType::f64, DType::f32}) {
    Generator gen(5);
    Tensor keys = randn({6, 9, 40}, dtype, gen).requires_grad_(), query = randn({6, 40}, dtype, gen).requires_grad_();
    Tensor v = randn({40}, dtype, gen).requires_grad_(), w = randn({6, 9}, dtype, gen);
    const double tol = dtype == DType::f64 ? 1e-12 : 2e-5;
    Tensor fused = additive_attention_scores(keys, query, v);
    sum(fused * w).backward();
    Tensor dk = keys.grad(), dq = query.grad(), dv = v.grad();
    for (const Tensor& t : {keys, query, v}) t.set_grad({});
    Tensor ref = composed_scores(keys, query, v);
    sum(ref * w).backward();
    expect_near(fused, ref, tol);
    expect_near(dk, keys.grad(), tol);
    expect_near(dq, query.grad(), tol);
    expect_near(dv, v.grad(), tol);
  }
}

TEST(AdditiveAttentionScores, SameWithoutAutograd) {
  Generator gen(6);
  Tensor keys = randn({3, 4, 20}, DType::f32, gen).requires_grad_(), query = randn({3, 20}, DType::f32, gen);
  Tensor v = randn({20}, DType::f32, gen);
  Tensor recorded = additive_attention_scores(keys, query, v);
  autograd::NoGradGuard no_grad;
  Tensor plain = additive_attention_scores(keys, query, v);
  EXPECT_FALSE(plain.requires_grad());
  EXPECT_EQ(to_vector<float>(plain), to_vector<float>(recorded));
}

TEST(AdditiveAttentionScores, KnownValue) {
  // tanh(0.5 + 0.25) * 2 + tanh(-1 + 1) * 3 = 2 tanh(0.75).
  Tensor keys = tensor<double>({0.5, -1.0}, {1, 1, 2}), query = tensor<double>({0.25, 1.0}, {1, 2});
  Tensor v = tensor<double>({2.0, 3.0}, {2});
  EXPECT_NEAR(additive_attention_scores(keys, query, v).item<double>(), 2 * std::tanh(0.75), 1e-12);
}

TEST(AdditiveAttentionScoresErrors, Shapes) {
  EXPECT_EQ(error_of([] {
              return additive_attention_scores(zeros({2, 3}), zeros({2, 3}), zeros({3}));
            }),
            "additive_attention_scores: keys must be [batch, source, width], got [2, 3]");
  EXPECT_EQ(error_of([] {
              return additive_attention_scores(zeros({2, 5, 3}), zeros({2, 4}), zeros({3}));
            }),
            "additive_attention_scores: query must be [2, 3] to match keys [2, 5, 3], got [2, 4]");
  EXPECT_EQ(error_of([] {
              return additive_attention_scores(zeros({2, 5, 3}), zeros({2, 3}), zeros({1, 3}));
            }),
            "additive_attention_scores: v must be [3] to match keys [2, 5, 3], got [1, 3]");
}

TEST(AdditiveAttentionScoresErrors, Dtypes) {
  EXPECT_EQ(error_of([] {
              return additive_attention_scores(zeros({2, 5, 3}, DType::i64), zeros({2, 3}), zeros({3}));
            }),
            "additive_attention_scores: keys must be f32 or f64, got i64 [2, 5, 3]");
  EXPECT_CONTAINS(error_of([] {
                    return additive_attention_scores(zeros({2, 5, 3}), zeros({2, 3}, DType::f64), zeros({3}));
                  }),
                  "additive_attention_scores: keys, query and v must share a dtype");
}

}  // namespace
}  // namespace dendrite
