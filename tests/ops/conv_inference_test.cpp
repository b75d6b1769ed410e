// A convolution that nothing records (inference, evaluation) may run on another oneDNN
// implementation (kernels/cpu/conv.cpp: forward_inference from 16 input channels) or with a fused
// ReLU (conv2d_relu): it must give the values of the recorded forward.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "dendrite/kernels/registry.h"
#include "dendrite/ops/ops.h"

namespace dendrite {
namespace {

// A 3x3, padding-1 convolution's operands; the weight and bias require grad, so that a call
// records a backward unless under NoGradGuard.
struct ConvOperands {
  Tensor x, w, b;
  Conv2dParams p;
};

ConvOperands conv_operands(int64_t channels, int64_t out_channels, int64_t size, int64_t batch, uint64_t seed,
                           double weight_scale) {
  Generator gen(seed);
  ConvOperands c;
  c.x = randn({batch, channels, size, size}, DType::f32, gen);
  c.w = (randn({out_channels, channels, 3, 3}, DType::f32, gen) * weight_scale).requires_grad_();
  c.b = randn({out_channels}, DType::f32, gen).requires_grad_();
  c.p.padding = {1, 1};
  return c;
}

void expect_same_forward(int64_t channels, int64_t out_channels, int64_t size, int64_t batch) {
  const auto [x, w, b, p] = conv_operands(channels, out_channels, size, batch, static_cast<uint64_t>(channels), 0.1);
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

// conv2d_relu runs the ReLU inside the kernel (cpu: a oneDNN post-op; reference: at the store);
// without a recorded backward the cpu kernel may take forward_inference implementations. Both must
// give relu(conv2d).
std::vector<float> fused_relu_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p,
                                      kernels::Backend backend) {
  kernels::ScopedBackend only({backend});
  autograd::NoGradGuard no_grad;
  return to_vector<float>(conv2d_relu(x, w, b, p));
}

void expect_fused_relu_matches(int64_t channels, int64_t out_channels, int64_t size, int64_t batch) {
  const auto [x, w, b, p] =
      conv_operands(channels, out_channels, size, batch, static_cast<uint64_t>(out_channels), 0.3);
  const std::vector<float> composed = to_vector<float>(relu(conv2d(x, w, b, p)));
  const std::vector<float> cpu = fused_relu_forward(x, w, b, p, kernels::Backend::cpu);
  const std::vector<float> reference = fused_relu_forward(x, w, b, p, kernels::Backend::reference);
  ASSERT_EQ(cpu.size(), composed.size());
  ASSERT_EQ(reference.size(), composed.size());
  int64_t zeros = 0;
  for (size_t i = 0; i < composed.size(); ++i) {
    ASSERT_GE(cpu[i], 0.0f) << "element " << i;
    ASSERT_NEAR(cpu[i], composed[i], 1e-5 + 1e-4 * std::abs(composed[i])) << "cpu, element " << i;
    ASSERT_NEAR(reference[i], composed[i], 1e-5 + 1e-4 * std::abs(composed[i])) << "reference, element " << i;
    zeros += composed[i] == 0.0f;
  }
  EXPECT_GT(zeros, 0);  // the ReLU had something to do
}

TEST(Conv2dRelu, FusedForwardMatchesComposed) {
  expect_fused_relu_matches(1, 32, 28, 1);   // W5's first layer
  expect_fused_relu_matches(32, 64, 13, 1);  // W5's second layer (forward_inference)
  expect_fused_relu_matches(3, 16, 9, 2);
}

}  // namespace
}  // namespace dendrite
