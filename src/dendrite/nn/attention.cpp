#include "dendrite/nn/attention.h"

#include <cmath>

#include "dendrite/ops/attention.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/dropout.h"
#include "dendrite/ops/elementwise.h"
#include "dendrite/ops/join.h"
#include "dendrite/ops/linalg.h"
#include "dendrite/ops/softmax.h"

namespace dendrite::nn {
namespace {

// Added to masked scores: far below any real score, yet finite so a fully masked row stays finite.
constexpr double kMaskedScore = -1e9;

void check_rnn_inputs(const std::string& who, const Tensor& query, int64_t query_dim, const Tensor& values,
                      const Tensor& mask) {
  DENDRITE_CHECK(query.dim() == 2 && query.size(1) == query_dim, "{}: query must be [batch, {}], got {}", who,
                 query_dim, dendrite::to_string(query.shape()));
  DENDRITE_CHECK(values.dim() == 3 && values.size(0) == query.size(0),
                 "{}: values must be [{}, source, features], got {}", who, query.size(0),
                 dendrite::to_string(values.shape()));
  if (mask.defined()) {
    DENDRITE_CHECK(mask.dim() == 2 && mask.size(0) == values.size(0) && mask.size(1) == values.size(1),
                   "{}: mask must be [{}, {}], got {}", who, values.size(0), values.size(1),
                   dendrite::to_string(mask.shape()));
  }
}

// weights [B, S] @ values [B, S, V] -> [B, V]
Tensor weighted_sum(const Tensor& weights, const Tensor& values) {
  return matmul(weights.unsqueeze(1), values).squeeze(1);
}

}  // namespace

Tensor length_mask(const std::vector<int64_t>& lengths, int64_t max_length, DType dtype) {
  std::vector<double> m(lengths.size() * static_cast<size_t>(max_length), 0.0);
  for (size_t b = 0; b < lengths.size(); ++b) {
    DENDRITE_CHECK(lengths[b] >= 0 && lengths[b] <= max_length,
                   "length_mask: length {} of sequence {} is outside [0, {}]", lengths[b], b, max_length);
    for (int64_t t = 0; t < lengths[b]; ++t) m[b * static_cast<size_t>(max_length) + static_cast<size_t>(t)] = 1.0;
  }
  return tensor<double>(m, {static_cast<int64_t>(lengths.size()), max_length}).to(dtype);
}

Tensor causal_mask(int64_t length, DType dtype) {
  std::vector<double> m(static_cast<size_t>(length * length), 0.0);
  for (int64_t i = 0; i < length; ++i)
    for (int64_t j = 0; j <= i; ++j) m[static_cast<size_t>(i * length + j)] = 1.0;
  return tensor<double>(m, {length, length}).to(dtype);
}

Tensor masked_softmax(const Tensor& scores, const Tensor& mask) {
  if (!mask.defined()) return softmax(scores, -1);
  DENDRITE_CHECK(mask.dtype() == scores.dtype(), "masked_softmax: mask is {} but the scores are {}", describe(mask),
                 describe(scores));
  // Subtracting the row maximum inside softmax turns the masked scores' exp into exact zeros.
  return softmax(scores + (1.0 - mask) * kMaskedScore, -1);
}

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) {
  DENDRITE_CHECK(q.dim() >= 2 && k.dim() == q.dim() && v.dim() == q.dim(),
                 "scaled_dot_product_attention: q, k, v must have the same rank >= 2, got {}, {}, {}",
                 to_string(q.shape()), to_string(k.shape()), to_string(v.shape()));
  DENDRITE_CHECK(q.size(-1) == k.size(-1), "scaled_dot_product_attention: q {} and k {} differ in depth",
                 to_string(q.shape()), to_string(k.shape()));
  DENDRITE_CHECK(k.size(-2) == v.size(-2), "scaled_dot_product_attention: k {} and v {} differ in length",
                 to_string(k.shape()), to_string(v.shape()));
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  Tensor scores = matmul(q, k.transpose(-1, -2)) * scale;
  return matmul(masked_softmax(scores, mask), v);
}

Tensor RnnAttention::forward(const Tensor&) {
  fail("{}: call project_keys() once per source, then attend() with each query", name());
}

AdditiveAttention::AdditiveAttention(int64_t query_dim, int64_t key_dim, int64_t attention_dim)
    : query_dim_(query_dim), key_dim_(key_dim), attention_dim_(attention_dim) {
  query_ = register_module("query", std::make_shared<Linear>(query_dim, attention_dim, false));
  key_ = register_module("key", std::make_shared<Linear>(key_dim, attention_dim));
  score_ = register_module("score", std::make_shared<Linear>(attention_dim, 1, false));
}

std::string AdditiveAttention::name() const {
  return fmt::format("AdditiveAttention(query {}, key {}, hidden {})", query_dim_, key_dim_, attention_dim_);
}

Tensor AdditiveAttention::project_keys(const Tensor& keys) {
  DENDRITE_CHECK(keys.dim() == 3 && keys.size(2) == key_dim_, "{}: keys must be [batch, source, {}], got {}", name(),
                 key_dim_, dendrite::to_string(keys.shape()));
  return (*key_)(keys);
}

AttentionResult AdditiveAttention::attend(const Tensor& query, const Tensor& projected, const Tensor& values,
                                          const Tensor& mask) {
  check_rnn_inputs(name(), query, query_dim_, values, mask);
  // v . tanh(projected + W_q q) in one fused op: the composed form wrote three [B, S, A]
  // temporaries a step (docs/sequence.md, "Speed notes").
  Tensor scores = additive_attention_scores(projected, (*query_)(query), score_->weight.reshape({attention_dim_}));
  Tensor weights = masked_softmax(scores, mask);
  return {weighted_sum(weights, values), weights};
}

DotAttention::DotAttention(int64_t query_dim, int64_t key_dim, bool general)
    : query_dim_(query_dim), key_dim_(key_dim) {
  DENDRITE_CHECK(general || query_dim == key_dim,
                 "DotAttention: plain dot scores need query_dim == key_dim, got {} and {}", query_dim, key_dim);
  if (general) proj_ = register_module("proj", std::make_shared<Linear>(key_dim, query_dim, false));
}

std::string DotAttention::name() const {
  return fmt::format("DotAttention(query {}, key {}{})", query_dim_, key_dim_, proj_ ? ", general" : "");
}

Tensor DotAttention::project_keys(const Tensor& keys) {
  DENDRITE_CHECK(keys.dim() == 3 && keys.size(2) == key_dim_, "{}: keys must be [batch, source, {}], got {}", name(),
                 key_dim_, dendrite::to_string(keys.shape()));
  return proj_ ? (*proj_)(keys) : keys;  // W k once per source, so each step is one batched dot product
}

AttentionResult DotAttention::attend(const Tensor& query, const Tensor& projected, const Tensor& values,
                                     const Tensor& mask) {
  check_rnn_inputs(name(), query, query_dim_, values, mask);
  Tensor scores = matmul(projected, query.unsqueeze(2)).squeeze(2);  // [B, S, Q] @ [B, Q, 1]
  Tensor weights = masked_softmax(scores, mask);
  return {weighted_sum(weights, values), weights};
}

MultiheadAttention::MultiheadAttention(int64_t embed_dim, int64_t heads, double dropout)
    : embed_dim_(embed_dim), heads_(heads), dropout_(dropout) {
  DENDRITE_CHECK(heads >= 1 && embed_dim % heads == 0,
                 "MultiheadAttention: embed_dim {} must be a positive multiple of heads {}", embed_dim, heads);
  q_ = register_module("q_proj", std::make_shared<Linear>(embed_dim, embed_dim));
  k_ = register_module("k_proj", std::make_shared<Linear>(embed_dim, embed_dim));
  v_ = register_module("v_proj", std::make_shared<Linear>(embed_dim, embed_dim));
  out_ = register_module("out_proj", std::make_shared<Linear>(embed_dim, embed_dim));
}

std::string MultiheadAttention::name() const {
  return fmt::format("MultiheadAttention({}, heads={})", embed_dim_, heads_);
}

Tensor MultiheadAttention::split_heads(const Tensor& x) const {
  return x.reshape({x.size(0), x.size(1), heads_, embed_dim_ / heads_}).transpose(1, 2);
}

void MultiheadAttention::check_input(const Tensor& t) const {
  DENDRITE_CHECK(t.dim() == 3 && t.size(2) == embed_dim_, "{}: inputs must be [batch, length, {}], got {}", name(),
                 embed_dim_, dendrite::to_string(t.shape()));
}

KVCache MultiheadAttention::project_kv(const Tensor& key, const Tensor& value) {
  check_input(key);
  check_input(value);
  DENDRITE_CHECK(key.size(0) == value.size(0) && key.size(1) == value.size(1), "{}: key {} and value {} do not agree",
                 name(), dendrite::to_string(key.shape()), dendrite::to_string(value.shape()));
  return {split_heads((*k_)(key)), split_heads((*v_)(value))};
}

Tensor MultiheadAttention::attend_projected(const Tensor& query, const KVCache& kv, const Tensor& mask) {
  check_input(query);
  DENDRITE_CHECK(kv.k.defined() && kv.k.size(0) == query.size(0), "{}: query {} and cached keys {} do not agree",
                 name(), dendrite::to_string(query.shape()),
                 kv.k.defined() ? dendrite::to_string(kv.k.shape()) : std::string("undefined"));
  Tensor q = split_heads((*q_)(query));
  const double scale = 1.0 / std::sqrt(static_cast<double>(embed_dim_ / heads_));
  Tensor weights = masked_softmax(matmul(q, kv.k.transpose(-1, -2)) * scale, mask);
  weights = dropout(weights, dropout_, is_training());
  Tensor heads = matmul(weights, kv.v).transpose(1, 2).reshape({query.size(0), query.size(1), embed_dim_});
  return (*out_)(heads);
}

Tensor MultiheadAttention::attend(const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& mask) {
  check_input(query);
  DENDRITE_CHECK(key.dim() == 3 && key.size(0) == query.size(0), "{}: query {} and key {} do not agree", name(),
                 dendrite::to_string(query.shape()), dendrite::to_string(key.shape()));
  return attend_projected(query, project_kv(key, value), mask);
}

Tensor MultiheadAttention::attend_incremental(const Tensor& x, KVCache& cache) {
  KVCache fresh = project_kv(x, x);
  const int64_t past = cache.k.defined() ? cache.k.size(2) : 0, n = x.size(1);
  cache.k = past == 0 ? fresh.k : concat({cache.k, fresh.k}, 2);
  cache.v = past == 0 ? fresh.v : concat({cache.v, fresh.v}, 2);
  // New position i sees the past and the new positions up to i.
  Tensor mask;
  if (n > 1) {
    std::vector<double> m(static_cast<size_t>(n * (past + n)), 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j <= past + i; ++j) m[static_cast<size_t>(i * (past + n) + j)] = 1.0;
    mask = tensor<double>(m, {n, past + n}).to(x.dtype());
  }
  return attend_projected(x, cache, mask);
}

}  // namespace dendrite::nn
