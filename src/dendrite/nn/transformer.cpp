#include "dendrite/nn/transformer.h"

#include <cmath>

#include "dendrite/nn/init.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/dropout.h"
#include "dendrite/ops/elementwise.h"

namespace dendrite::nn {
namespace {

void check_options(const char* who, const TransformerOptions& o) {
  DENDRITE_CHECK(o.d_model >= 1 && o.heads >= 1 && o.d_model % o.heads == 0,
                 "{}: d_model {} must be a positive multiple of heads {}", who, o.d_model, o.heads);
  DENDRITE_CHECK(o.feedforward >= 1, "{}: feedforward must be >= 1, got {}", who, o.feedforward);
  DENDRITE_CHECK(o.dropout >= 0 && o.dropout < 1, "{}: dropout must be in [0, 1), got {}", who, o.dropout);
}

void check_input(const std::string& who, const Tensor& x, int64_t d_model, const char* what) {
  DENDRITE_CHECK(x.dim() == 3 && x.size(2) == d_model, "{}: {} must be [batch, length, {}], got {}", who, what, d_model,
                 dendrite::to_string(x.shape()));
}

}  // namespace

Tensor sinusoidal_positions(int64_t length, int64_t dim, int64_t offset, DType dtype) {
  DENDRITE_CHECK(length >= 0 && dim >= 1 && offset >= 0,
                 "sinusoidal_positions: need length >= 0, dim >= 1, offset >= 0, got {}, {}, {}", length, dim, offset);
  std::vector<double> pe(static_cast<size_t>(length * dim));
  for (int64_t p = 0; p < length; ++p) {
    for (int64_t i = 0; i < dim; ++i) {
      const double rate = std::pow(10000.0, -static_cast<double>(i - i % 2) / static_cast<double>(dim));
      const double angle = static_cast<double>(p + offset) * rate;
      pe[static_cast<size_t>(p * dim + i)] = i % 2 == 0 ? std::sin(angle) : std::cos(angle);
    }
  }
  return tensor<double>(pe, {length, dim}).to(dtype);
}

LearnedPositions::LearnedPositions(int64_t max_length, int64_t dim) : max_length_(max_length), dim_(dim) {
  DENDRITE_CHECK(max_length >= 1 && dim >= 1, "LearnedPositions: sizes must be positive, got {} x {}", max_length, dim);
  weight = register_parameter("weight", empty({max_length, dim}));
  init::normal_(weight, 0.0, 0.02);
}

std::string LearnedPositions::name() const { return fmt::format("LearnedPositions({}, {})", max_length_, dim_); }

Tensor LearnedPositions::add(const Tensor& x, int64_t offset) {
  check_input(name(), x, dim_, "input");
  DENDRITE_CHECK(offset >= 0 && offset + x.size(1) <= max_length_,
                 "{}: positions [{}, {}) exceed the maximum length {}", name(), offset, offset + x.size(1),
                 max_length_);
  return x + weight.narrow(0, offset, x.size(1));
}

TransformerEncoderLayer::TransformerEncoderLayer(const TransformerOptions& o) : options_(o) {
  check_options("TransformerEncoderLayer", o);
  norm1_ = register_module("norm1", std::make_shared<LayerNorm>(o.d_model));
  attention_ = register_module("self_attn", std::make_shared<MultiheadAttention>(o.d_model, o.heads, o.dropout));
  norm2_ = register_module("norm2", std::make_shared<LayerNorm>(o.d_model));
  ff1_ = register_module("linear1", std::make_shared<Linear>(o.d_model, o.feedforward));
  ff2_ = register_module("linear2", std::make_shared<Linear>(o.feedforward, o.d_model));
}

std::string TransformerEncoderLayer::name() const {
  return fmt::format("TransformerEncoderLayer(d_model={}, heads={}, feedforward={})", options_.d_model, options_.heads,
                     options_.feedforward);
}

Tensor TransformerEncoderLayer::feedforward(const Tensor& x) {
  return (*ff2_)(dropout(relu((*ff1_)(x)), options_.dropout, is_training()));
}

Tensor TransformerEncoderLayer::encode(const Tensor& x, const Tensor& mask) {
  check_input(name(), x, options_.d_model, "input");
  const double p = options_.dropout;
  const Tensor n1 = (*norm1_)(x);
  Tensor y = x + dropout(attention_->attend(n1, n1, n1, mask), p, is_training());
  return y + dropout(feedforward((*norm2_)(y)), p, is_training());
}

TransformerDecoderLayer::TransformerDecoderLayer(const TransformerOptions& o) : options_(o) {
  check_options("TransformerDecoderLayer", o);
  norm1_ = register_module("norm1", std::make_shared<LayerNorm>(o.d_model));
  self_attention_ = register_module("self_attn", std::make_shared<MultiheadAttention>(o.d_model, o.heads, o.dropout));
  norm2_ = register_module("norm2", std::make_shared<LayerNorm>(o.d_model));
  cross_attention_ = register_module("cross_attn", std::make_shared<MultiheadAttention>(o.d_model, o.heads, o.dropout));
  norm3_ = register_module("norm3", std::make_shared<LayerNorm>(o.d_model));
  ff1_ = register_module("linear1", std::make_shared<Linear>(o.d_model, o.feedforward));
  ff2_ = register_module("linear2", std::make_shared<Linear>(o.feedforward, o.d_model));
}

std::string TransformerDecoderLayer::name() const {
  return fmt::format("TransformerDecoderLayer(d_model={}, heads={}, feedforward={})", options_.d_model, options_.heads,
                     options_.feedforward);
}

Tensor TransformerDecoderLayer::forward(const Tensor&) {
  fail("{}: call decode(x, memory) or start(memory) and step()", name());
}

Tensor TransformerDecoderLayer::feedforward(const Tensor& x) {
  return (*ff2_)(dropout(relu((*ff1_)(x)), options_.dropout, is_training()));
}

Tensor TransformerDecoderLayer::decode(const Tensor& x, const Tensor& memory, const Tensor& memory_mask) {
  check_input(name(), x, options_.d_model, "input");
  check_input(name(), memory, options_.d_model, "memory");
  const double p = options_.dropout;
  const Tensor n1 = (*norm1_)(x);
  Tensor y = x + dropout(self_attention_->attend(n1, n1, n1, causal_mask(x.size(1), x.dtype())), p, is_training());
  const Tensor n2 = (*norm2_)(y);
  y = y + dropout(cross_attention_->attend(n2, memory, memory, memory_mask), p, is_training());
  return y + dropout(feedforward((*norm3_)(y)), p, is_training());
}

TransformerDecoderLayer::Cache TransformerDecoderLayer::start(const Tensor& memory) {
  check_input(name(), memory, options_.d_model, "memory");
  return {{}, cross_attention_->project_kv(memory, memory)};
}

Tensor TransformerDecoderLayer::step(const Tensor& x, Cache& cache, const Tensor& memory_mask) {
  check_input(name(), x, options_.d_model, "input");
  const double p = options_.dropout;
  Tensor y = x + dropout(self_attention_->attend_incremental((*norm1_)(x), cache.self), p, is_training());
  y = y + dropout(cross_attention_->attend_projected((*norm2_)(y), cache.cross, memory_mask), p, is_training());
  return y + dropout(feedforward((*norm3_)(y)), p, is_training());
}

}  // namespace dendrite::nn
