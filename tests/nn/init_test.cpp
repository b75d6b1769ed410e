// Initialiser statistics: the sample variance of a large tensor against the formula, and the
// default initialisation of Linear and Conv2d against PyTorch's bounds.
#include <cmath>

#include "nn_test_util.h"

namespace dendrite::nn {
namespace {

struct Moments {
  double mean, var, min, max;
};

Moments moments(const Tensor& t) {
  std::vector<double> v = to_vector<double>(t);
  double sum = 0, sq = 0, lo = v[0], hi = v[0];
  for (double x : v) {
    sum += x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  const double mean = sum / static_cast<double>(v.size());
  for (double x : v) sq += (x - mean) * (x - mean);
  return {mean, sq / static_cast<double>(v.size()), lo, hi};
}

// With 131072 samples the relative standard error of a variance estimate is about 0.4-0.6%, so
// 3% is far outside chance.
constexpr double kRelTol = 0.03;

TEST(Init, KaimingVarianceIsTwoOverFan) {
  Generator gen(1);
  Tensor w = empty({256, 512});
  init::kaiming_normal_(w, {.nonlinearity = init::Nonlinearity::relu}, gen);
  Moments m = moments(w);
  EXPECT_NEAR(m.var, 2.0 / 512, kRelTol * 2.0 / 512);
  EXPECT_NEAR(m.mean, 0.0, 0.001);

  init::kaiming_uniform_(w, {.nonlinearity = init::Nonlinearity::relu}, gen);
  m = moments(w);
  EXPECT_NEAR(m.var, 2.0 / 512, kRelTol * 2.0 / 512);
  const double bound = std::sqrt(6.0 / 512);
  EXPECT_LE(m.max, bound);
  EXPECT_GE(m.min, -bound);
  EXPECT_GT(m.max, 0.99 * bound);

  init::kaiming_normal_(w, {.mode = init::FanMode::fan_out, .nonlinearity = init::Nonlinearity::relu}, gen);
  EXPECT_NEAR(moments(w).var, 2.0 / 256, kRelTol * 2.0 / 256);
}

TEST(Init, ConvFansIncludeTheReceptiveField) {
  EXPECT_EQ(init::fans({16, 8, 3, 3}), (std::pair<int64_t, int64_t>{72, 144}));
  Generator gen(2);
  Tensor w = empty({64, 32, 8, 8});  // fan_in = 2048
  init::kaiming_normal_(w, {.nonlinearity = init::Nonlinearity::relu}, gen);
  EXPECT_NEAR(moments(w).var, 2.0 / 2048, kRelTol * 2.0 / 2048);
}

TEST(Init, XavierBalancesFans) {
  Generator gen(3);
  Tensor w = empty({256, 512});
  const double expected = 2.0 / (256 + 512);
  init::xavier_uniform_(w, 1.0, gen);
  EXPECT_NEAR(moments(w).var, expected, kRelTol * expected);
  init::xavier_normal_(w, init::calculate_gain(init::Nonlinearity::tanh), gen);
  EXPECT_NEAR(moments(w).var, expected * 25.0 / 9.0, kRelTol * expected * 25.0 / 9.0);
}

TEST(Init, GainsFollowPyTorch) {
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::linear), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::relu), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::tanh), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::leaky_relu, 0.2), std::sqrt(2.0 / 1.04));
}

TEST(Init, ConstantsAndParametersThatRequireGrad) {
  Tensor p = empty({3}).requires_grad_();
  init::zeros_(p);
  EXPECT_EQ(to_vector<float>(p), (std::vector<float>{0, 0, 0}));
  init::ones_(p);
  EXPECT_EQ(to_vector<float>(p), (std::vector<float>{1, 1, 1}));
  EXPECT_TRUE(p.requires_grad());
}

TEST(Init, SeededGeneratorsRepeat) {
  Generator a(9), b(9);
  Tensor x = empty({50, 20}), y = empty({50, 20});
  init::kaiming_uniform_(x, {}, a);
  init::kaiming_uniform_(y, {}, b);
  EXPECT_EQ(to_vector<float>(x), to_vector<float>(y));
  Linear l1(20, 50), l2(20, 50);
  Generator c(4), d(4);
  l1.reset_parameters(c);
  l2.reset_parameters(d);
  EXPECT_EQ(to_vector<float>(l1.weight), to_vector<float>(l2.weight));
  EXPECT_EQ(to_vector<float>(l1.bias), to_vector<float>(l2.bias));
}

// PyTorch's default for Linear and Conv2d: weight and bias uniform in +-1/sqrt(fan_in), so the
// weight variance is 1 / (3 fan_in).
TEST(Init, LinearAndConvDefaultsMatchPyTorch) {
  Linear linear_layer(400, 300);
  const double bound = 1.0 / std::sqrt(400.0);
  Moments w = moments(linear_layer.weight), b = moments(linear_layer.bias);
  EXPECT_LE(w.max, bound);
  EXPECT_GE(w.min, -bound);
  EXPECT_GT(w.max, 0.99 * bound);
  EXPECT_NEAR(w.var, 1.0 / (3 * 400), kRelTol / (3 * 400));
  EXPECT_LE(b.max, bound);
  EXPECT_GE(b.min, -bound);

  Conv2d conv(32, 64, 5);  // fan_in = 800
  const double conv_bound = 1.0 / std::sqrt(800.0);
  Moments cw = moments(conv.weight), cb = moments(conv.bias);
  EXPECT_NEAR(cw.var, 1.0 / (3 * 800), kRelTol / (3 * 800));
  EXPECT_LE(cw.max, conv_bound);
  EXPECT_LE(cb.max, conv_bound);
  EXPECT_GE(cb.min, -conv_bound);
}

TEST(Init, Errors) {
  testing::expect_error([] { init::kaiming_uniform_(empty({5})); }, {"fans need a weight of rank >= 2", "[5]"});
  testing::expect_error(
      [] {
        init::xavier_normal_(zeros({2, 2}, DType::i32));
      },
      {"xavier_normal_: needs a floating-point tensor", "i32 [2, 2]"});
  testing::expect_error(
      [] {
        init::kaiming_normal_(empty({3, 0}));
      },
      {"kaiming_normal_: weight [3, 0] has a zero fan"});
  testing::expect_error([] { init::zeros_(Tensor()); }, {"constant_: tensor is undefined"});
}

}  // namespace
}  // namespace dendrite::nn
