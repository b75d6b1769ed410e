// FrozenParameters (nn/frozen_parameters.h): every parameter of a module is declared constant while
// it lives and no longer afterwards, and a layer's output is the same with its weights packed.
#include "dendrite/nn/frozen_parameters.h"

#include <gtest/gtest.h>

#include "dendrite/autograd/autograd.h"
#include "dendrite/kernels/constant_operand.h"
#include "dendrite/nn/conv.h"
#include "dendrite/nn/linear.h"
#include "dendrite/ops/ops.h"

namespace dendrite::nn {
namespace {

TEST(FrozenParameters, DeclaresEveryParameterWhileItLives) {
  Linear layer(48, 96);
  {
    const FrozenParameters frozen(layer);
    for (const Tensor& p : layer.parameters()) EXPECT_NE(kernels::constant_operand_cache(p), nullptr);
  }
  for (const Tensor& p : layer.parameters()) EXPECT_EQ(kernels::constant_operand_cache(p), nullptr);
}

TEST(FrozenParameters, PackedWeightsGiveTheSameOutput) {
  Linear layer(48, 96);
  Generator gen(3);
  const Tensor x = randn({64, 48}, DType::f32, gen);
  const Tensor plain = layer(x);
  const FrozenParameters frozen(layer);
  for (int call = 0; call < 2; ++call) {  // the first packs, the second reads the packed copy
    const std::vector<float> got = to_vector<float>(layer(x)), want = to_vector<float>(plain);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5 * (1 + std::abs(want[i]))) << i;
  }
}

// The convolution reorders frozen weights once; the output (forward) and the input gradient
// (backward data, which reads the weights too) must equal those of the unfrozen layer, on the
// first call and on the later ones that read the kept copy.
TEST(FrozenParameters, ConvolutionWithReorderedWeightsGivesTheSameResults) {
  Conv2d layer(32, 64, 3, Conv2dOptions{.padding = 1});
  Generator gen(5);
  const Tensor x = randn({2, 32, 9, 9}, DType::f32, gen);
  x.requires_grad_();
  const Tensor gy = randn({2, 64, 9, 9}, DType::f32, gen);
  auto run = [&] {
    x.set_grad({});
    const Tensor y = layer(x);
    y.backward(gy);
    return std::pair{to_vector<float>(y), to_vector<float>(x.grad())};
  };
  const auto [y_plain, gx_plain] = run();
  const FrozenParameters frozen(layer);
  for (int call = 0; call < 3; ++call) {
    const auto [y, gx] = run();
    ASSERT_EQ(y.size(), y_plain.size());
    for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(y[i], y_plain[i]) << "output " << i << ", call " << call;
    for (size_t i = 0; i < gx.size(); ++i) ASSERT_EQ(gx[i], gx_plain[i]) << "input gradient " << i << ", call " << call;
  }
}

// At inference (no gradient recorded) on channels-last activations, the cpu backend runs a frozen
// 3x3 layer by Winograd's F(4x4, 3x3) (kernels/cpu/winograd_conv.h): the output is the unfrozen
// layer's to rounding, on the call that transforms the weights and on those that reuse them.
TEST(FrozenParameters, InferenceConvolutionGivesTheUnfrozenOutputToRounding) {
  Conv2d layer(32, 64, 3, Conv2dOptions{.padding = 1});
  Generator gen(9);
  const Tensor x = randn({1, 11, 11, 32}, DType::f32, gen).permute({0, 3, 1, 2});  // channels-last
  const autograd::NoGradGuard no_grad;
  const std::vector<float> want = to_vector<float>(layer(x));
  // Each output's sum of |terms| (the bias is the same on both sides): rounding scales with it.
  Conv2dParams pad1;
  pad1.padding = {1, 1};
  const std::vector<float> magnitude = to_vector<float>(conv2d(abs(x), abs(layer.weight), Tensor(), pad1));
  const FrozenParameters frozen(layer);
  for (int call = 0; call < 2; ++call) {
    const std::vector<float> got = to_vector<float>(layer(x));
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5 * (1 + magnitude[i])) << i;
  }
}

}  // namespace
}  // namespace dendrite::nn
