// Channels-last activations (core/memory_format.h) flow through a W2-like chain with batch norm:
// every output keeps the format, and a channels-last input gives the values and gradients of the
// same chain on a contiguous input.
#include "dendrite/core/memory_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "dendrite/ops/ops.h"

namespace dendrite {
namespace {

struct Chain {
  Tensor x, w1, gamma, w2, out;
};

// conv 3x3 (padding 1) -> batch norm -> relu -> 2x2 max pool -> conv 3x3 -> relu -> 2x2 max pool
// -> flatten, on
// 13x13 images (odd: each pool leaves a row and a column out), then a sum of squares backward.
Chain run_chain(bool channels_last) {
  Generator gen(7);
  Tensor x = randn({3, 16, 13, 13}, DType::f32, gen);
  Tensor w1 = (randn({32, 16, 3, 3}, DType::f32, gen) * 0.1).requires_grad_();
  Tensor w2 = (randn({16, 32, 3, 3}, DType::f32, gen) * 0.1).requires_grad_();
  Tensor gamma = (randn({32}, DType::f32, gen) * 0.1 + 1.0).requires_grad_();
  Tensor beta = randn({32}, DType::f32, gen).requires_grad_();
  if (channels_last) x = x.permute({0, 2, 3, 1}).contiguous().permute({0, 3, 1, 2});
  x.requires_grad_();
  Conv2dParams pad1;
  pad1.padding = {1, 1};
  Tensor normed = batch_norm(conv2d(x, w1, Tensor(), pad1), {}, {}, gamma, beta, true);
  Tensor h1 = max_pool2d(relu(normed), {2, 2});
  Tensor h2 = relu(conv2d(h1, w2, Tensor(), {}));
  Tensor out = max_pool2d(h2, {2, 2});
  if (channels_last) {
    for (const Tensor* t : {&normed, &h1, &h2, &out}) EXPECT_EQ(memory_format_of(*t), MemoryFormat::channels_last);
  }
  Tensor flat = out.flatten(1, 3);
  sum(flat * flat).backward();
  return {x, w1, gamma, w2, out};
}

void expect_near(const Tensor& a, const Tensor& b, const std::string& what) {
  const auto va = to_vector<float>(a), vb = to_vector<float>(b);
  ASSERT_EQ(va.size(), vb.size()) << what;
  for (size_t i = 0; i < va.size(); ++i) {
    ASSERT_NEAR(va[i], vb[i], 1e-4 + 1e-4 * std::abs(vb[i])) << what << ", element " << i;
  }
}

TEST(ChannelsLast, ChainKeepsTheFormatAndTheValues) {
  const Chain plain = run_chain(false);
  const Chain last = run_chain(true);
  expect_near(last.out, plain.out, "output");
  expect_near(last.x.grad(), plain.x.grad(), "input gradient");
  expect_near(last.w1.grad(), plain.w1.grad(), "first weight gradient");
  expect_near(last.gamma.grad(), plain.gamma.grad(), "batch norm weight gradient");
  expect_near(last.w2.grad(), plain.w2.grad(), "second weight gradient");
}

TEST(ChannelsLast, ConvolutionsWriteChannelsLastWhateverTheInput) {
  Generator gen(3);
  const Tensor w = randn({16, 3, 3, 3}, DType::f32, gen);
  EXPECT_EQ(memory_format_of(conv2d(randn({2, 3, 8, 8}, DType::f32, gen), w, Tensor(), {})),
            MemoryFormat::channels_last);
  Tensor x = randn({2, 3, 8, 8}, DType::f32, gen).requires_grad_();
  sum(conv2d(x, w, Tensor(), {})).backward();
  EXPECT_TRUE(x.grad().is_contiguous());  // an input's gradient keeps the input's format
}

}  // namespace
}  // namespace dendrite
