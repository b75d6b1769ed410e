// Dropout's behaviour: the identity in evaluation, a reproducible mask from a seeded generator,
// the right fraction of zeros, inverted scaling of the kept values and the mask as the gradient.
#include <gtest/gtest.h>

#include <cmath>

#include "dendrite/ops/ops.h"

namespace dendrite {
namespace {

TEST(DropoutTest, EvalAndZeroProbabilityAreIdentity) {
  Tensor x = randn({3, 4});
  Generator gen(1);
  EXPECT_TRUE(dropout(x, 0.5, false, gen).is_same(x));
  EXPECT_TRUE(dropout(x, 0.0, true, gen).is_same(x));
  EXPECT_EQ(gen.state(), Generator(1).state()) << "the identity draws no random numbers";
}

TEST(DropoutTest, ProbabilityOneGivesZeros) {
  Tensor x = randn({5}).requires_grad_();
  Generator gen(1);
  Tensor y = dropout(x, 1.0, true, gen);
  for (float v : to_vector<float>(y)) EXPECT_EQ(v, 0.0f);
  sum(y).backward();
  for (float g : to_vector<float>(x.grad())) EXPECT_EQ(g, 0.0f);
}

TEST(DropoutTest, SeededGeneratorIsDeterministic) {
  Tensor x = ones({64});
  Generator a(42), b(42), c(43);
  std::vector<float> first = to_vector<float>(dropout(x, 0.5, true, a));
  EXPECT_EQ(first, to_vector<float>(dropout(x, 0.5, true, b)));
  EXPECT_NE(first, to_vector<float>(dropout(x, 0.5, true, c)));
  EXPECT_NE(first, to_vector<float>(dropout(x, 0.5, true, a))) << "the generator advances between calls";
}

// The mask is drawn in parallel by index (Generator::skip/at); it must be the mask of drawing one
// uniform per element in order, for any thread count, and leave the generator where that would.
TEST(DropoutTest, ParallelMaskIsTheSequentialOne) {
  const int64_t n = 3 * kParallelGrain + 17;  // several chunks, a ragged last one
  const Tensor x = ones({n});
  const double p = 0.3, scale = 1.0 / 0.7;
  for (int threads : {1, 2}) {
    const int before = num_threads();
    set_num_threads(threads);
    Generator gen(42), reference(42);
    const std::vector<float> y = to_vector<float>(dropout(x, p, true, gen));
    set_num_threads(before);
    int64_t mismatches = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float expected = reference.uniform() < 1.0 - p ? static_cast<float>(scale) : 0.0f;
      mismatches += y[static_cast<size_t>(i)] != expected;
    }
    EXPECT_EQ(mismatches, 0) << threads << " threads";
    EXPECT_EQ(gen.state(), reference.state()) << threads << " threads";
  }
}

TEST(DropoutTest, FractionOfZerosIsP) {
  Generator gen(2024);
  const int64_t n = 200000;
  for (double p : {0.1, 0.5, 0.9}) {
    std::vector<float> y = to_vector<float>(dropout(ones({n}), p, true, gen));
    int64_t zeros = 0;
    for (float v : y) zeros += v == 0.0f;
    const double fraction = static_cast<double>(zeros) / static_cast<double>(n);
    // Binomial standard deviation is at most 0.0012 here; allow about 5 of them.
    EXPECT_NEAR(fraction, p, 0.006) << "p = " << p;
  }
}

TEST(DropoutTest, KeptValuesAreScaled) {
  Tensor x = arange(1, 101, 1, DType::f32);
  Generator gen(5);
  const double p = 0.25;
  std::vector<float> in = to_vector<float>(x), out = to_vector<float>(dropout(x, p, true, gen));
  int kept = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (out[i] == 0.0f) continue;
    ++kept;
    EXPECT_NEAR(out[i], in[i] / (1.0 - p), 1e-4) << "element " << i;
  }
  EXPECT_GT(kept, 0);
}

TEST(DropoutTest, GradientIsTheMask) {
  Tensor x = randn({8, 16}).requires_grad_();
  Generator gen(9), same(9);
  Tensor y = dropout(x, 0.4, true, gen);
  sum(y).backward();
  // The same seed on a tensor of ones gives the mask itself.
  std::vector<float> mask = to_vector<float>(dropout(ones({8, 16}), 0.4, true, same));
  EXPECT_EQ(to_vector<float>(x.grad()), mask);
  std::vector<float> xs = to_vector<float>(x), ys = to_vector<float>(y);
  for (size_t i = 0; i < xs.size(); ++i) EXPECT_FLOAT_EQ(ys[i], xs[i] * mask[i]);
}

TEST(DropoutTest, WorksOnViewsAndDoublePrecision) {
  Tensor x = randn({6, 4}, DType::f64).t();
  Generator gen(3);
  Tensor y = dropout(x, 0.5, true, gen);
  EXPECT_EQ(y.shape(), (Shape{4, 6}));
  EXPECT_EQ(y.dtype(), DType::f64);
  std::vector<double> xs = to_vector<double>(x), ys = to_vector<double>(y);
  for (size_t i = 0; i < xs.size(); ++i) EXPECT_TRUE(ys[i] == 0.0 || ys[i] == 2.0 * xs[i]);
}

}  // namespace
}  // namespace dendrite
