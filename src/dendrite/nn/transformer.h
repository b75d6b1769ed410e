// Transformer layers (Vaswani et al. 2017) in the pre-norm arrangement (Xiong et al. 2020), which
// trains without a learning-rate warm-up as long as the post-norm one needs:
//
//   encoder layer:  x = x + Dropout(SelfAttention(LayerNorm(x), padding mask))
//                   x = x + Dropout(FeedForward(LayerNorm(x)))
//   decoder layer:  x = x + Dropout(SelfAttention(LayerNorm(x), causal mask))
//                   x = x + Dropout(CrossAttention(LayerNorm(x), memory, memory mask))
//                   x = x + Dropout(FeedForward(LayerNorm(x)))
//
// with FeedForward = Linear(d, ff) -> ReLU -> Dropout -> Linear(ff, d). A stack of pre-norm layers
// needs one final LayerNorm on its output. Inputs are batch-first [B, L, d].
//
// Incremental decoding: TransformerDecoderLayer::start projects the memory's keys and values once;
// step() then runs one new position against the cached keys and values of the earlier ones
// (MultiheadAttention::attend_incremental), so the prefix is never recomputed.
#pragma once

#include <cstdint>
#include <memory>

#include "dendrite/nn/attention.h"
#include "dendrite/nn/layers.h"
#include "dendrite/nn/linear.h"
#include "dendrite/nn/module.h"
#include "dendrite/nn/normalization.h"

namespace dendrite::nn {

// [length, dim]: PE(p, 2i) = sin(p / 10000^(2i/dim)), PE(p, 2i+1) = cos(p / 10000^(2i/dim)).
Tensor sinusoidal_positions(int64_t length, int64_t dim, int64_t offset = 0, DType dtype = DType::f32);

// A learned embedding per position: forward(x [B, L, d]) = x + weight[offset : offset + L].
class LearnedPositions : public Module {
 public:
  LearnedPositions(int64_t max_length, int64_t dim);
  Tensor forward(const Tensor& x) override { return add(x, 0); }
  Tensor add(const Tensor& x, int64_t offset);
  std::string name() const override;

  Tensor weight;  // [max_length, dim], N(0, 0.02)

 private:
  int64_t max_length_, dim_;
};

struct TransformerOptions {
  int64_t d_model = 256;
  int64_t heads = 4;
  int64_t feedforward = 1024;
  double dropout = 0.1;
};

class TransformerEncoderLayer : public Module {
 public:
  explicit TransformerEncoderLayer(const TransformerOptions& options);
  // mask broadcastable to [B, heads, L, L] (e.g. [B, 1, 1, L] from length_mask) or undefined.
  Tensor encode(const Tensor& x, const Tensor& mask = {});
  Tensor forward(const Tensor& x) override { return encode(x); }
  std::string name() const override;

 private:
  Tensor feedforward(const Tensor& x);
  TransformerOptions options_;
  std::shared_ptr<LayerNorm> norm1_, norm2_;
  std::shared_ptr<MultiheadAttention> attention_;
  std::shared_ptr<Linear> ff1_, ff2_;
};

class TransformerDecoderLayer : public Module {
 public:
  explicit TransformerDecoderLayer(const TransformerOptions& options);
  // Teacher forcing: x [B, T, d] with causal self-attention, memory [B, S, d], memory_mask
  // broadcastable to [B, heads, T, S] or undefined.
  Tensor decode(const Tensor& x, const Tensor& memory, const Tensor& memory_mask = {});
  Tensor forward(const Tensor& x) override;  // throws: a decoder layer needs the memory

  struct Cache {
    KVCache self;   // grows by one position per step
    KVCache cross;  // the memory's, fixed
  };
  Cache start(const Tensor& memory);
  // x [B, 1, d], the next position -> its output; appends to cache.self.
  Tensor step(const Tensor& x, Cache& cache, const Tensor& memory_mask = {});
  std::string name() const override;

 private:
  Tensor feedforward(const Tensor& x);
  TransformerOptions options_;
  std::shared_ptr<LayerNorm> norm1_, norm2_, norm3_;
  std::shared_ptr<MultiheadAttention> self_attention_, cross_attention_;
  std::shared_ptr<Linear> ff1_, ff2_;
};

}  // namespace dendrite::nn
