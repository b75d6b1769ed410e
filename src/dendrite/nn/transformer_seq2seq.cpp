#include "dendrite/nn/transformer_seq2seq.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "dendrite/autograd/autograd.h"
#include "dendrite/nn/init.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/dropout.h"
#include "dendrite/ops/elementwise.h"
#include "dendrite/ops/indexing.h"
#include "dendrite/ops/softmax.h"

namespace dendrite::nn {
namespace {

// Every row's per-layer caches; the position of the next token is the same for all rows (they
// step together).
class TransformerDecoder : public StepDecoder {
 public:
  TransformerDecoder(TransformerSeq2Seq& model, TransformerSeq2Seq::Encoded encoded)
      : model_(model), encoded_(std::move(encoded)) {
    for (auto& layer : model_.decoder_layers()) caches_.push_back(layer->start(encoded_.memory));
    for (int64_t i = 0; i < encoded_.memory.size(0); ++i) source_of_row_.push_back(i);
  }

  Tensor step(const Tensor& tokens) override {
    DENDRITE_CHECK(tokens.dim() == 1 && tokens.size(0) == static_cast<int64_t>(source_of_row_.size()),
                   "{}: tokens must be [{}], got {}", model_.name(), source_of_row_.size(),
                   dendrite::to_string(tokens.shape()));
    autograd::NoGradGuard no_grad;
    Tensor x = model_.embed_target(tokens.unsqueeze(1), position_);
    auto& layers = model_.decoder_layers();
    for (size_t l = 0; l < layers.size(); ++l) x = layers[l]->step(x, caches_[l], encoded_.mask);
    ++position_;
    return log_softmax(model_.logits(x).squeeze(1), -1);
  }

  void select(const std::vector<int64_t>& rows) override {
    const Tensor index = tensor<int64_t>(rows, {static_cast<int64_t>(rows.size())});  // 1-D even for one row
    auto take = [&](const Tensor& t) { return t.defined() ? index_select(t, 0, index) : t; };
    // Beam search reorders rows among the beams of one source, whose memory is the same: the
    // memory's keys and values are copied only when some row now reads another source.
    std::vector<int64_t> sources;
    for (int64_t r : rows) sources.push_back(source_of_row_.at(static_cast<size_t>(r)));
    const bool moved = sources != source_of_row_;
    for (auto& cache : caches_) {
      cache.self = {take(cache.self.k), take(cache.self.v)};
      if (moved) cache.cross = {take(cache.cross.k), take(cache.cross.v)};
    }
    if (moved) {
      encoded_.memory = take(encoded_.memory);
      encoded_.mask = take(encoded_.mask);
    }
    source_of_row_ = std::move(sources);
  }

 private:
  TransformerSeq2Seq& model_;
  TransformerSeq2Seq::Encoded encoded_;
  std::vector<TransformerDecoderLayer::Cache> caches_;
  std::vector<int64_t> source_of_row_;
  int64_t position_ = 0;
};

void check_options(const TransformerSeq2SeqOptions& o) {
  DENDRITE_CHECK(o.source_vocab > 0 && o.target_vocab > 0,
                 "TransformerSeq2Seq: vocabulary sizes must be positive, got {} and {}", o.source_vocab,
                 o.target_vocab);
  DENDRITE_CHECK(o.d_model >= 1 && o.heads >= 1 && o.d_model % o.heads == 0,
                 "TransformerSeq2Seq: d_model {} must be a positive multiple of heads {}", o.d_model, o.heads);
  DENDRITE_CHECK(o.encoder_layers >= 1 && o.decoder_layers >= 1,
                 "TransformerSeq2Seq: encoder and decoder layers must be >= 1, got {} and {}", o.encoder_layers,
                 o.decoder_layers);
  DENDRITE_CHECK(o.positions == "sinusoidal" || o.positions == "learned",
                 "TransformerSeq2Seq: positions must be \"sinusoidal\" or \"learned\", got \"{}\"", o.positions);
  DENDRITE_CHECK(o.max_positions >= 1, "TransformerSeq2Seq: max_positions must be >= 1, got {}", o.max_positions);
}

}  // namespace

TransformerSeq2Seq::TransformerSeq2Seq(const TransformerSeq2SeqOptions& o) : options_(o) {
  check_options(o);
  const TransformerOptions layer{
      .d_model = o.d_model, .heads = o.heads, .feedforward = o.feedforward, .dropout = o.dropout};
  source_embed_ = register_module("source_embed", std::make_shared<Embedding>(o.source_vocab, o.d_model));
  target_embed_ = register_module("target_embed", std::make_shared<Embedding>(o.target_vocab, o.d_model));
  {
    autograd::NoGradGuard no_grad;
    const double stddev = 1.0 / std::sqrt(static_cast<double>(o.d_model));
    init::normal_(source_embed_->weight, 0.0, stddev);
    init::normal_(target_embed_->weight, 0.0, stddev);
  }
  if (o.positions == "learned") {
    learned_ = register_module("positions", std::make_shared<LearnedPositions>(o.max_positions, o.d_model));
  } else {
    sinusoid_ = sinusoidal_positions(o.max_positions, o.d_model);
  }
  for (int64_t l = 0; l < o.encoder_layers; ++l)
    encoder_.push_back(register_module(fmt::format("encoder{}", l), std::make_shared<TransformerEncoderLayer>(layer)));
  encoder_norm_ = register_module("encoder_norm", std::make_shared<LayerNorm>(o.d_model));
  for (int64_t l = 0; l < o.decoder_layers; ++l)
    decoder_.push_back(register_module(fmt::format("decoder{}", l), std::make_shared<TransformerDecoderLayer>(layer)));
  decoder_norm_ = register_module("decoder_norm", std::make_shared<LayerNorm>(o.d_model));
  out_ = register_module("out", std::make_shared<Linear>(o.d_model, o.target_vocab));
}

std::string TransformerSeq2Seq::name() const {
  return fmt::format("TransformerSeq2Seq({} -> {}, d_model {}, {} heads, feedforward {}, {}+{} layers, {} positions)",
                     options_.source_vocab, options_.target_vocab, options_.d_model, options_.heads,
                     options_.feedforward, options_.encoder_layers, options_.decoder_layers, options_.positions);
}

Tensor TransformerSeq2Seq::add_positions(const Tensor& x, int64_t offset) {
  if (learned_) return learned_->add(x, offset);
  const int64_t end = offset + x.size(1);
  if (end > sinusoid_.size(0)) sinusoid_ = sinusoidal_positions(std::max(end, 2 * sinusoid_.size(0)), options_.d_model);
  return x + sinusoid_.narrow(0, offset, x.size(1)).to(x.dtype());
}

TransformerSeq2Seq::Encoded TransformerSeq2Seq::encode(const Tensor& source, const std::vector<int64_t>& lengths) {
  DENDRITE_CHECK(source.dim() == 2, "{}: source must be [batch, length] token ids, got {}", name(),
                 dendrite::to_string(source.shape()));
  DENDRITE_CHECK(static_cast<int64_t>(lengths.size()) == source.size(0), "{}: {} lengths for a batch of {}", name(),
                 lengths.size(), source.size(0));
  const double scale = std::sqrt(static_cast<double>(options_.d_model));
  Tensor x = dropout(add_positions((*source_embed_)(source)*scale, 0), options_.dropout, is_training());
  Encoded e;
  e.mask = length_mask(lengths, source.size(1), x.dtype()).reshape({source.size(0), 1, 1, source.size(1)});
  for (auto& layer : encoder_) x = layer->encode(x, e.mask);
  e.memory = (*encoder_norm_)(x);
  return e;
}

Tensor TransformerSeq2Seq::embed_target(const Tensor& tokens, int64_t offset) {
  const double scale = std::sqrt(static_cast<double>(options_.d_model));
  return dropout(add_positions((*target_embed_)(tokens)*scale, offset), options_.dropout, is_training());
}

Tensor TransformerSeq2Seq::logits(const Tensor& decoded) { return (*out_)((*decoder_norm_)(decoded)); }

Tensor TransformerSeq2Seq::forward_teacher(const Tensor& source, const std::vector<int64_t>& lengths,
                                           const Tensor& target_in) {
  DENDRITE_CHECK(target_in.dim() == 2 && target_in.size(0) == source.size(0),
                 "{}: target_in must be [{}, length] token ids, got {}", name(), source.size(0),
                 dendrite::to_string(target_in.shape()));
  const Encoded e = encode(source, lengths);
  Tensor y = embed_target(target_in, 0);
  for (auto& layer : decoder_) y = layer->decode(y, e.memory, e.mask);
  return logits(y);
}

std::unique_ptr<StepDecoder> TransformerSeq2Seq::start_decoding(const Tensor& source,
                                                                const std::vector<int64_t>& lengths) {
  autograd::NoGradGuard no_grad;
  return std::make_unique<TransformerDecoder>(*this, encode(source, lengths));
}

}  // namespace dendrite::nn
