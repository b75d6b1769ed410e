// Transformer layers: sinusoidal positions against the formula, the encoder ignoring padded keys,
// the decoder's causality, and incremental decoding with cached keys and values giving exactly
// what the whole-sequence decoder gives.
#include <gtest/gtest.h>

#include <cmath>

#include "nn_test_util.h"

namespace dendrite::nn {
namespace {

using testing::error_of;
using testing::expect_near;

TransformerOptions small() { return {.d_model = 8, .heads = 2, .feedforward = 16, .dropout = 0.0}; }

TEST(Transformer, SinusoidalPositions) {
  Tensor pe = sinusoidal_positions(3, 4);
  std::vector<float> v = to_vector<float>(pe);
  EXPECT_FLOAT_EQ(v[0], 0.0f);                                     // sin(0)
  EXPECT_FLOAT_EQ(v[1], 1.0f);                                     // cos(0)
  EXPECT_NEAR(v[4 + 0], std::sin(1.0), 1e-6);                      // p = 1, i = 0
  EXPECT_NEAR(v[4 + 3], std::cos(1.0 / 100.0), 1e-6);              // p = 1, i = 3: rate 10000^(-2/4)
  expect_near(sinusoidal_positions(1, 4, 2), pe.narrow(0, 2, 1));  // an offset continues the table
}

TEST(Transformer, LearnedPositionsAndLimit) {
  LearnedPositions pos(4, 8);
  EXPECT_EQ(pos.forward(zeros({2, 3, 8})).shape(), (Shape{2, 3, 8}));
  EXPECT_EQ(error_of([&] {
              pos.add(zeros({1, 3, 8}), 2);
            }),
            "LearnedPositions(4, 8): positions [2, 5) exceed the maximum length 4");
}

TEST(Transformer, EncoderIgnoresPaddedKeys) {
  manual_seed(11);
  TransformerEncoderLayer layer(small());
  Tensor x = randn({1, 5, 8});
  Tensor mask = length_mask({3}, 5).reshape({1, 1, 1, 5});
  Tensor padded = layer.encode(x, mask);
  Tensor alone = layer.encode(x.narrow(1, 0, 3));
  expect_near(padded.narrow(1, 0, 3), alone);
}

TEST(Transformer, DecoderIsCausalAndIncrementalMatchesWhole) {
  manual_seed(12);
  TransformerDecoderLayer layer(small());
  layer.eval();
  Tensor x = randn({2, 4, 8}), memory = randn({2, 3, 8});
  Tensor mem_mask = length_mask({3, 2}, 3).reshape({2, 1, 1, 3});
  Tensor whole = layer.decode(x, memory, mem_mask);
  TransformerDecoderLayer::Cache cache = layer.start(memory);
  for (int64_t t = 0; t < 4; ++t) {
    Tensor y = layer.step(x.narrow(1, t, 1), cache, mem_mask);
    expect_near(y, whole.narrow(1, t, 1));
  }
  EXPECT_EQ(cache.self.k.size(2), 4);
  // Changing the last input leaves the earlier outputs alone.
  Tensor changed = x.clone();
  copy_(changed.narrow(1, 3, 1), randn({2, 1, 8}));
  expect_near(layer.decode(changed, memory, mem_mask).narrow(1, 0, 3), whole.narrow(1, 0, 3));
}

TEST(Transformer, GradientsReachEveryParameter) {
  manual_seed(13);
  TransformerEncoderLayer enc(small());
  TransformerDecoderLayer dec(small());
  Tensor memory = enc.encode(randn({2, 3, 8}));
  sum(dec.decode(randn({2, 2, 8}), memory)).backward();
  for (const auto& [name, t] : enc.named_parameters()) EXPECT_TRUE(t.grad().defined()) << name;
  for (const auto& [name, t] : dec.named_parameters()) EXPECT_TRUE(t.grad().defined()) << name;
}

TEST(TransformerErrors, BadInputs) {
  EXPECT_EQ(error_of([] { TransformerEncoderLayer({.d_model = 10, .heads = 4}); }),
            "TransformerEncoderLayer: d_model 10 must be a positive multiple of heads 4");
  TransformerDecoderLayer dec(small());
  EXPECT_EQ(error_of([&] {
              dec.decode(zeros({1, 2, 8}), zeros({1, 2, 6}));
            }),
            "TransformerDecoderLayer(d_model=8, heads=2, feedforward=16): memory must be [batch, length, 8], got "
            "[1, 2, 6]");
  EXPECT_EQ(error_of([&] {
              dec.forward(zeros({1, 2, 8}));
            }),
            "TransformerDecoderLayer(d_model=8, heads=2, feedforward=16): call decode(x, memory) or start(memory) and "
            "step()");
}

}  // namespace
}  // namespace dendrite::nn
