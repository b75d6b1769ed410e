// Each layer's forward against the op it wraps or a value worked out by hand, and the state that
// BatchNorm2d keeps.
#include <cmath>

#include "nn_test_util.h"

namespace dendrite::nn {
namespace {

using testing::value;

TEST(Layers, LinearMatchesTheOpOnAnyLeadingAxes) {
  Linear layer(4, 3);
  Tensor x = randn({2, 5, 4});
  Tensor y = layer(x);
  EXPECT_EQ(y.shape(), (Shape{2, 5, 3}));
  EXPECT_EQ(to_vector<float>(y), to_vector<float>(linear(x, layer.weight, layer.bias)));
  Linear no_bias(4, 3, false);
  EXPECT_FALSE(no_bias.bias.defined());
  EXPECT_EQ(no_bias.named_parameters().size(), 1u);
  EXPECT_EQ(no_bias.name(), "Linear(4 -> 3, bias=false)");
}

// Sequential runs a Conv2d followed by a ReLU as one fused call when nothing records a backward;
// the outputs must be those of the layers one by one.
TEST(Layers, SequentialFusesConvAndReluWithTheSameResult) {
  Sequential net{Conv2d(2, 16, 3, {.padding = 1}), ReLU(), MaxPool2d(2), Conv2d(16, 8, 3), ReLU(), Flatten()};
  Tensor x = randn({2, 2, 8, 8});
  Tensor stepwise = x;
  for (size_t i = 0; i < net.size(); ++i) stepwise = net.ptr(i)->forward(stepwise);
  const auto want = to_vector<float>(stepwise);
  autograd::NoGradGuard no_grad;
  const auto got = to_vector<float>(net(x));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5 + 1e-4 * std::abs(want[i])) << i;
}

TEST(Layers, Conv2dShapesAndOptions) {
  Conv2d conv(3, 8, 3, {.stride = 2, .padding = 1});
  EXPECT_EQ(conv.weight.shape(), (Shape{8, 3, 3, 3}));
  EXPECT_EQ(conv(randn({2, 3, 28, 28})).shape(), (Shape{2, 8, 14, 14}));
  Conv2d grouped(4, 8, {1, 3}, {.padding = {0, 1}, .groups = 2, .bias = false});
  EXPECT_EQ(grouped.weight.shape(), (Shape{8, 2, 1, 3}));
  EXPECT_FALSE(grouped.bias.defined());
  EXPECT_EQ(grouped(randn({1, 4, 5, 6})).shape(), (Shape{1, 8, 5, 6}));
  EXPECT_EQ(grouped.name(), "Conv2d(4 -> 8, kernel=1x3, padding=0x1, groups=2, bias=false)");
  Conv2d dilated(1, 1, 3, {.dilation = 2});
  EXPECT_EQ(dilated(randn({1, 1, 7, 7})).shape(), (Shape{1, 1, 3, 3}));
}

TEST(Layers, PoolingDefaultsStrideToKernel) {
  Tensor x = arange(0, 16, 1, DType::f32).reshape({1, 1, 4, 4});
  EXPECT_EQ(to_vector<float>(MaxPool2d(2)(x)), (std::vector<float>{5, 7, 13, 15}));
  EXPECT_EQ(to_vector<float>(AvgPool2d(2)(x)), (std::vector<float>{2.5, 4.5, 10.5, 12.5}));
  EXPECT_EQ(MaxPool2d(3, {.stride = 1, .padding = 1})(x).shape(), (Shape{1, 1, 4, 4}));
  // Corner window of a padded 3x3 average: 4 real values of 9 counted, or of 4.
  EXPECT_FLOAT_EQ(to_vector<float>(AvgPool2d(3, {.stride = 1, .padding = 1})(x))[0], (0 + 1 + 4 + 5) / 9.0f);
  EXPECT_FLOAT_EQ(to_vector<float>(AvgPool2d(3, {.stride = 1, .padding = 1, .count_include_pad = false})(x))[0],
                  (0 + 1 + 4 + 5) / 4.0f);
  EXPECT_EQ(MaxPool2d({2, 1}, {.stride = {2, 1}}).name(), "MaxPool2d(2x1)");
}

TEST(Layers, FlattenKeepsTheBatchAxis) {
  Tensor x = randn({2, 3, 4, 5});
  EXPECT_EQ(Flatten()(x).shape(), (Shape{2, 60}));
  EXPECT_EQ(Flatten(0)(x).shape(), (Shape{120}));
  EXPECT_EQ(Flatten(1, 2)(x).shape(), (Shape{2, 12, 5}));
  EXPECT_EQ(Flatten(-2, -1)(x).shape(), (Shape{2, 3, 20}));
}

TEST(Layers, DropoutOnlyInTraining) {
  Generator gen(7);
  Dropout drop(0.5, gen);
  Tensor x = ones({1000});
  std::vector<float> y = to_vector<float>(drop(x));
  int zeros_seen = 0;
  for (float v : y) {
    EXPECT_TRUE(v == 0.0f || v == 2.0f);
    zeros_seen += v == 0.0f;
  }
  EXPECT_GT(zeros_seen, 400);
  EXPECT_LT(zeros_seen, 600);
  drop.eval();
  EXPECT_TRUE(drop(x).is_same(x));
}

TEST(Layers, ActivationsMatchTheirOps) {
  Tensor x = randn({3, 4});
  EXPECT_EQ(to_vector<float>(ReLU()(x)), to_vector<float>(relu(x)));
  EXPECT_EQ(to_vector<float>(GELU()(x)), to_vector<float>(gelu(x)));
  EXPECT_EQ(to_vector<float>(Sigmoid()(x)), to_vector<float>(sigmoid(x)));
  EXPECT_EQ(to_vector<float>(Tanh()(x)), to_vector<float>(tanh(x)));
  EXPECT_TRUE(Identity()(x).is_same(x));
}

TEST(Layers, EmbeddingLooksUpRows) {
  Embedding emb(10, 3);
  EXPECT_EQ(emb.weight.shape(), (Shape{10, 3}));
  Tensor idx = tensor<int64_t>({4, 0, 4, 9}, {2, 2});
  Tensor y = emb(idx);
  EXPECT_EQ(y.shape(), (Shape{2, 2, 3}));
  std::vector<float> w = to_vector<float>(emb.weight), out = to_vector<float>(y);
  for (int j = 0; j < 3; ++j) {
    EXPECT_EQ(out[j], w[4 * 3 + j]);
    EXPECT_EQ(out[9 + j], w[9 * 3 + j]);
  }
  y.sum().backward();
  // Row 4 was looked up twice, rows 1..3 never.
  std::vector<float> g = to_vector<float>(emb.weight.grad());
  EXPECT_EQ(g[4 * 3], 2.0f);
  EXPECT_EQ(g[1 * 3], 0.0f);
}

TEST(Layers, BatchNormUpdatesRunningStatsAndEvalUsesThem) {
  BatchNorm2d bn(2, {.momentum = 0.5});
  // Channel 0 holds 1..4, channel 1 holds 10 everywhere; N = 2, H = 1, W = 2.
  Tensor x = tensor<float>({1, 2, 10, 10, 3, 4, 10, 10}, {2, 2, 1, 2});
  Tensor y = bn(x);
  // Training output uses the batch statistics: channel 0 has mean 2.5 and biased variance 1.25.
  EXPECT_NEAR(to_vector<float>(y)[0], (1 - 2.5) / std::sqrt(1.25 + 1e-5), 1e-5);
  EXPECT_NEAR(to_vector<float>(y)[2], 0.0, 1e-5);
  // running = 0.5 * old + 0.5 * batch; the variance is unbiased (5/3 for 1..4, 0 for the constant).
  EXPECT_EQ(to_vector<float>(bn.running_mean), (std::vector<float>{1.25f, 5.0f}));
  std::vector<float> var = to_vector<float>(bn.running_var);
  EXPECT_FLOAT_EQ(var[0], 0.5f + 0.5f * (5.0f / 3.0f));
  EXPECT_FLOAT_EQ(var[1], 0.5f);
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);

  bn.eval();
  Tensor z = bn(x);
  EXPECT_NEAR(to_vector<float>(z)[0], (1 - 1.25) / std::sqrt(var[0] + 1e-5), 1e-5);
  EXPECT_NEAR(to_vector<float>(z)[2], (10 - 5.0) / std::sqrt(0.5 + 1e-5), 1e-4);
  // Evaluation leaves the statistics alone.
  EXPECT_EQ(to_vector<float>(bn.running_mean), (std::vector<float>{1.25f, 5.0f}));
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);

  // The affine parameters take part: weight 2 and bias 1 scale and shift the output.
  init::constant_(bn.weight, 2.0);
  init::ones_(bn.bias);
  EXPECT_NEAR(to_vector<float>(bn(x))[0], 2.0 * (1 - 1.25) / std::sqrt(var[0] + 1e-5) + 1.0, 1e-5);
  BatchNorm2d plain(3, {.affine = false});
  EXPECT_TRUE(plain.named_parameters().empty());
  EXPECT_EQ(plain.named_buffers().size(), 3u);
}

TEST(Layers, LayerNormNormalisesTrailingAxes) {
  LayerNorm ln(4);
  Tensor x = tensor<float>({1, 2, 3, 4, 2, 2, 2, 2}, {2, 4});
  std::vector<float> y = to_vector<float>(ln(x));
  const double sd = std::sqrt(1.25 + 1e-5);
  EXPECT_NEAR(y[0], -1.5 / sd, 1e-5);
  EXPECT_NEAR(y[3], 1.5 / sd, 1e-5);
  EXPECT_NEAR(y[5], 0.0, 1e-5);
  LayerNorm ln2({2, 4}, {.elementwise_affine = false});
  EXPECT_TRUE(ln2.named_parameters().empty());
  EXPECT_EQ(ln2(randn({3, 2, 4})).shape(), (Shape{3, 2, 4}));
  EXPECT_EQ(ln2.name(), "LayerNorm([2, 4], elementwise_affine=false)");
}

}  // namespace
}  // namespace dendrite::nn
