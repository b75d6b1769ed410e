// layer_norm on its kernels against the composite it replaced (mean, centring, biased variance,
// rsqrt, affine from primitive ops): values and all three gradients, with and without autograd,
// and sums over rows that do not depend on the thread count.
#include <gtest/gtest.h>

#include "dendrite/core/threading.h"
#include "dendrite/ops/ops.h"

namespace dendrite {
namespace {

Tensor composed_layer_norm(const Tensor& x, const std::vector<int64_t>& axes, const Tensor& w, const Tensor& b,
                           double eps) {
  Tensor centered = x - mean(x, axes, true);
  Tensor var = mean(centered * centered, axes, true);
  return centered * rsqrt(var + eps) * w + b;
}

void expect_near(const Tensor& a, const Tensor& b, double tol) {
  std::vector<double> x = to_vector<double>(a), y = to_vector<double>(b);
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], tol) << "element " << i;
}

TEST(LayerNorm, MatchesComposed) {
  for (DType dtype : {DType::f64, DType::f32}) {
    Generator gen(3);
    // [batch, length, 2, 72]: two normalised axes, rows wider than a vector register.
    Tensor x = (randn({5, 7, 2, 72}, dtype, gen) * 2.0 + 3.0).requires_grad_();
    Tensor w = randn({2, 72}, dtype, gen).requires_grad_(), b = randn({2, 72}, dtype, gen).requires_grad_();
    Tensor weights = randn({5, 7, 2, 72}, dtype, gen);
    const double tol = dtype == DType::f64 ? 1e-12 : 5e-5;
    Tensor fused = layer_norm(x, {2, 72}, w, b, 1e-5);
    sum(fused * weights).backward();
    Tensor gx = x.grad(), gw = w.grad(), gb = b.grad();
    for (const Tensor& t : {x, w, b}) t.set_grad({});
    Tensor ref = composed_layer_norm(x, {2, 3}, w, b, 1e-5);
    sum(ref * weights).backward();
    expect_near(fused, ref, tol);
    expect_near(gx, x.grad(), tol);
    expect_near(gw, w.grad(), tol * 10);  // sums over 35 rows
    expect_near(gb, b.grad(), tol * 10);
  }
}

TEST(LayerNorm, NoGradGivesTheSameValues) {
  Generator gen(4);
  Tensor x = randn({9, 33}, DType::f32, gen).requires_grad_(), w = randn({33}, DType::f32, gen);
  Tensor recorded = layer_norm(x, {33}, w);
  Tensor plain;
  {
    autograd::NoGradGuard no_grad;
    plain = layer_norm(x, {33}, w);
  }
  EXPECT_FALSE(plain.requires_grad());
  expect_near(plain, recorded, 0.0);
}

TEST(LayerNorm, TransposedInputIsNormalisedAlongItsLogicalRows) {
  Generator gen(6);
  Tensor x = randn({16, 10}, DType::f32, gen);
  expect_near(layer_norm(x.t(), {16}), layer_norm(x.t().contiguous(), {16}), 0.0);
}

TEST(LayerNorm, WeightAndBiasGradientsDoNotDependOnTheThreadCount) {
  // 3,000 rows of 64: several blocks of the cpu backward's partial sums.
  Generator gen(8);
  Tensor x = randn({3000, 64}, DType::f32, gen), g = randn({3000, 64}, DType::f32, gen);
  std::vector<std::vector<float>> grads;
  for (int threads : {1, 2}) {
    ScopedThreads scoped(threads);
    Tensor w = ones({64}).requires_grad_(), b = zeros({64}).requires_grad_();
    sum(layer_norm(x, {64}, w, b) * g).backward();
    grads.push_back(to_vector<float>(w.grad()));
    grads.push_back(to_vector<float>(b.grad()));
  }
  EXPECT_EQ(grads[0], grads[2]);
  EXPECT_EQ(grads[1], grads[3]);
}

}  // namespace
}  // namespace dendrite
