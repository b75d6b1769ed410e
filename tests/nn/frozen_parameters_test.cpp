// FrozenParameters (nn/frozen_parameters.h): every parameter of a module is declared constant while
// it lives and no longer afterwards, and a layer's output is the same with its weights packed.
#include <gtest/gtest.h>

#include "dendrite/kernels/constant_operand.h"
#include "dendrite/nn/frozen_parameters.h"
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

}  // namespace
}  // namespace dendrite::nn
