// A convolution that nothing records (inference, evaluation) may run on another oneDNN
// implementation (kernels/cpu/conv.cpp: forward_inference from 16 input channels): it must give the
// values of the recorded forward.
#include <gtest/gtest.h>

#include <cmath>

#include "dendrite/ops/ops.h"

namespace dendrite {
namespace {

void expect_same_forward(int64_t channels, int64_t out_channels, int64_t size, int64_t batch) {
  Generator gen(static_cast<uint64_t>(channels));
  Tensor x = randn({batch, channels, size, size}, DType::f32, gen);
  Tensor w = (randn({out_channels, channels, 3, 3}, DType::f32, gen) * 0.1).requires_grad_();
  Tensor b = randn({out_channels}, DType::f32, gen).requires_grad_();
  Conv2dParams p;
  p.padding = {1, 1};
  const std::vector<float> recorded = to_vector<float>(conv2d(x, w, b, p));
  autograd::NoGradGuard no_grad;
  const Tensor plain = conv2d(x, w, b, p);
  EXPECT_FALSE(plain.requires_grad());
  const std::vector<float> forward_only = to_vector<float>(plain);
  ASSERT_EQ(recorded.size(), forward_only.size());
  // Summation order differs between implementations: the conformance table's f32 tolerance.
  for (size_t i = 0; i < recorded.size(); ++i) {
    ASSERT_NEAR(forward_only[i], recorded[i], 1e-5 + 1e-4 * std::abs(recorded[i]))
        << "element " << i << ", " << channels << " -> " << out_channels << " channels";
  }
}

TEST(Conv2dForwardOnly, MatchesRecordedForward) {
  expect_same_forward(1, 32, 28, 1);   // below the inference threshold
  expect_same_forward(32, 64, 13, 1);  // W5's second layer
  expect_same_forward(16, 16, 9, 3);
}

}  // namespace
}  // namespace dendrite
