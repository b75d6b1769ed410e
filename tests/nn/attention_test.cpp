// Attention: masks give padding exactly zero weight, scaled dot-product attention against a
// hand-computed value, multi-head causal masking, and bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "nn_test_util.h"

namespace dendrite::nn {
namespace {

using testing::error_of;
using testing::expect_near;

TEST(Attention, LengthAndCausalMasks) {
  EXPECT_EQ(to_vector<float>(length_mask({2, 0, 3}, 3)), (std::vector<float>{1, 1, 0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(to_vector<float>(causal_mask(3)), (std::vector<float>{1, 0, 0, 1, 1, 0, 1, 1, 1}));
  EXPECT_EQ(error_of([] { length_mask({4}, 3); }), "length_mask: length 4 of sequence 0 is outside [0, 3]");
}

TEST(Attention, MaskedSoftmaxGivesPaddingZeroWeightAndNeverNaN) {
  Tensor w = masked_softmax(tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3}), tensor<float>({1, 1, 0, 0, 0, 0}, {2, 3}));
  std::vector<float> v = to_vector<float>(w);
  EXPECT_EQ(v[2], 0.0f);
  EXPECT_NEAR(v[0] + v[1], 1.0f, 1e-6);
  for (int i = 3; i < 6; ++i) EXPECT_NEAR(v[static_cast<size_t>(i)], 1.0f / 3, 1e-6);  // all masked: uniform
}

template <typename A>
void check_rnn_attention_ignores_padding(A& attention) {
  manual_seed(7);
  Tensor keys = randn({2, 5, 6}), query = randn({2, 4});
  Tensor mask = length_mask({3, 5}, 5);
  AttentionResult full = attention.attend(query, attention.project_keys(keys), keys, mask);
  // Garbage in the padding of the first row changes nothing.
  Tensor noisy = keys.clone();
  copy_(noisy.select(0, 0).narrow(0, 3, 2), dendrite::full({2, 6}, 1e3));
  AttentionResult again = attention.attend(query, attention.project_keys(noisy), noisy, mask);
  expect_near(full.context, again.context, 0.0);
  EXPECT_EQ(to_vector<float>(full.weights)[3], 0.0f);
  // Alone and unpadded, the first row attends the same way.
  Tensor k0 = keys.narrow(0, 0, 1).narrow(1, 0, 3);
  AttentionResult alone = attention.attend(query.narrow(0, 0, 1), attention.project_keys(k0), k0, {});
  expect_near(alone.context, full.context.narrow(0, 0, 1));
}

TEST(Attention, AdditiveIgnoresPadding) {
  AdditiveAttention attention(4, 6, 8);
  check_rnn_attention_ignores_padding(attention);
}

TEST(Attention, DotIgnoresPadding) {
  DotAttention attention(4, 6);
  check_rnn_attention_ignores_padding(attention);
}

TEST(Attention, ScaledDotProductKnownValue) {
  // One query equally similar to two keys: the mean of their values.
  Tensor q = tensor<float>({1, 0}, {1, 1, 2}), k = tensor<float>({1, 1, 1, -1}, {1, 2, 2});
  Tensor v = tensor<float>({2, 4}, {1, 2, 1});
  EXPECT_NEAR(scaled_dot_product_attention(q, k, v).item<float>(), 3.0f, 1e-6);
  // Masking the second key leaves the first value.
  EXPECT_NEAR(scaled_dot_product_attention(q, k, v, tensor<float>({1, 0}, {1, 1, 2})).item<float>(), 2.0f, 1e-6);
}

TEST(Attention, MultiheadCausalMaskHidesTheFuture) {
  manual_seed(8);
  MultiheadAttention mha(8, 2);
  Tensor x = randn({1, 4, 8});
  Tensor y = mha.attend(x, x, x, causal_mask(4));
  Tensor changed = x.clone();
  copy_(changed.narrow(1, 3, 1), randn({1, 1, 8}));
  Tensor y2 = mha.attend(changed, changed, changed, causal_mask(4));
  expect_near(y.narrow(1, 0, 3), y2.narrow(1, 0, 3));
  EXPECT_EQ(mha.forward(x).shape(), (Shape{1, 4, 8}));
}

TEST(AttentionErrors, BadInputs) {
  AdditiveAttention a(4, 6, 8);
  EXPECT_EQ(error_of([&] {
              a.attend(zeros({2, 5}), zeros({2, 3, 8}), zeros({2, 3, 6}), {});
            }),
            "AdditiveAttention(query 4, key 6, hidden 8): query must be [batch, 4], got [2, 5]");
  EXPECT_EQ(error_of([&] {
              a.attend(zeros({2, 4}), zeros({2, 3, 8}), zeros({2, 3, 6}), zeros({2, 4}));
            }),
            "AdditiveAttention(query 4, key 6, hidden 8): mask must be [2, 3], got [2, 4]");
  EXPECT_EQ(error_of([&] { a.forward(zeros({1})); }),
            "AdditiveAttention(query 4, key 6, hidden 8): call project_keys() once per source, then attend() with "
            "each query");
  EXPECT_EQ(error_of([] { MultiheadAttention(10, 3); }),
            "MultiheadAttention: embed_dim 10 must be a positive multiple of heads 3");
  EXPECT_EQ(error_of([] { DotAttention(3, 4, false); }),
            "DotAttention: plain dot scores need query_dim == key_dim, got 3 and 4");
}

}  // namespace
}  // namespace dendrite::nn
