// Attention: a query looks at a set of keys and returns the weighted mean of their values.
//
//   RNN decoders (one query per step, keys = values = the encoder's outputs):
//     AdditiveAttention  Bahdanau et al. 2015: score(q, k) = v^T tanh(W_q q + W_k k)
//     DotAttention       Luong et al. 2015, "general": score(q, k) = q^T W k (plain q^T k without W)
//   Both project the keys once per source (project_keys) and then attend() at every step.
//
//   Transformers: scaled_dot_product_attention (Vaswani et al. 2017) and MultiheadAttention.
//
// Masks are 1 where a key may be attended to and 0 where it may not (padding, future positions),
// broadcastable to the scores; masked keys get exactly zero weight, so padding never changes a
// result. A query whose keys are all masked gets uniform weights (never NaN).
#pragma once

#include <cstdint>
#include <vector>

#include "dendrite/nn/linear.h"
#include "dendrite/nn/module.h"

namespace dendrite::nn {

// [B, S] mask of 1 for positions < lengths[b], 0 after.
Tensor length_mask(const std::vector<int64_t>& lengths, int64_t max_length, DType dtype = DType::f32);
// [L, L] mask of 1 on and below the diagonal: position i may look at positions <= i.
Tensor causal_mask(int64_t length, DType dtype = DType::f32);
// softmax over the last axis with masked positions removed; mask undefined for none.
Tensor masked_softmax(const Tensor& scores, const Tensor& mask);
// q [..., Lq, d], k [..., Lk, d], v [..., Lk, dv] -> [..., Lq, dv]; softmax(q k^T / sqrt(d)) v.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask = {});

struct AttentionResult {
  Tensor context;  // [B, V]
  Tensor weights;  // [B, S]
};

// The interface an RNN decoder uses; forward() is not meaningful and throws.
class RnnAttention : public Module {
 public:
  // keys [B, S, K] -> what attend() takes as `projected` (computed once per source).
  virtual Tensor project_keys(const Tensor& keys) = 0;
  // query [B, Q], projected from project_keys, values [B, S, V], mask [B, S] or undefined.
  virtual AttentionResult attend(const Tensor& query, const Tensor& projected, const Tensor& values,
                                 const Tensor& mask) = 0;
  Tensor forward(const Tensor& x) override;
};

class AdditiveAttention : public RnnAttention {
 public:
  AdditiveAttention(int64_t query_dim, int64_t key_dim, int64_t attention_dim);
  Tensor project_keys(const Tensor& keys) override;
  AttentionResult attend(const Tensor& query, const Tensor& projected, const Tensor& values,
                         const Tensor& mask) override;
  std::string name() const override;

 private:
  int64_t query_dim_, key_dim_, attention_dim_;
  std::shared_ptr<Linear> query_, key_, score_;
};

class DotAttention : public RnnAttention {
 public:
  // general: score = q^T W k with W [Q, K]; otherwise q^T k (then query_dim must equal key_dim).
  DotAttention(int64_t query_dim, int64_t key_dim, bool general = true);
  Tensor project_keys(const Tensor& keys) override;
  AttentionResult attend(const Tensor& query, const Tensor& projected, const Tensor& values,
                         const Tensor& mask) override;
  std::string name() const override;

 private:
  int64_t query_dim_, key_dim_;
  std::shared_ptr<Linear> proj_;  // null for plain dot
};

// Projected keys and values, [B, heads, L, E / heads] each: a source's for cross-attention
// (computed once), or a decoder's own past positions for incremental self-attention.
struct KVCache {
  Tensor k, v;
};

// Multi-head attention with input and output projections (batch-first: [B, L, E]).
class MultiheadAttention : public Module {
 public:
  MultiheadAttention(int64_t embed_dim, int64_t heads, double dropout = 0.0);
  // query [B, Lq, E], key and value [B, Lk, E]; mask broadcastable to [B, heads, Lq, Lk] (e.g.
  // [B, 1, 1, Lk] for padding, [Lq, Lk] for causal) or undefined.
  Tensor attend(const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& mask = {});
  // Self-attention without a mask.
  Tensor forward(const Tensor& x) override { return attend(x, x, x); }
  std::string name() const override;

  KVCache project_kv(const Tensor& key, const Tensor& value);
  Tensor attend_projected(const Tensor& query, const KVCache& kv, const Tensor& mask = {});
  // Self-attention of new positions x [B, n, E] over every cached position and themselves (each
  // new position also sees the earlier new ones); appends their keys and values to `cache`. The
  // prefix is never projected again.
  Tensor attend_incremental(const Tensor& x, KVCache& cache);

 private:
  Tensor split_heads(const Tensor& x) const;  // [B, L, E] -> [B, heads, L, E / heads]
  void check_input(const Tensor& t) const;
  int64_t embed_dim_, heads_;
  double dropout_;
  std::shared_ptr<Linear> q_, k_, v_, out_;
};

}  // namespace dendrite::nn
