#include "dendrite/nn/seq2seq.h"

#include <cmath>
#include <string>

#include "dendrite/autograd/autograd.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/dropout.h"
#include "dendrite/ops/elementwise.h"
#include "dendrite/ops/indexing.h"
#include "dendrite/ops/join.h"
#include "dendrite/ops/softmax.h"

namespace dendrite::nn {
namespace {

// The decoder state of a batch being decoded; select() reorders every per-row tensor.
class Seq2SeqDecoder : public StepDecoder {
 public:
  Seq2SeqDecoder(Seq2Seq& model, Seq2Seq::Encoded encoded)
      : model_(model), encoded_(std::move(encoded)), state_(encoded_.start) {
    for (int64_t i = 0; i < encoded_.memory.size(0); ++i) source_of_row_.push_back(i);
  }

  Tensor step(const Tensor& tokens) override { return log_softmax(model_.step(encoded_, state_, tokens), -1); }

  void select(const std::vector<int64_t>& rows) override {
    const Tensor index = tensor<int64_t>(rows, {static_cast<int64_t>(rows.size())});  // 1-D even for one row
    // Keeping the first rows (rescoring drops the candidates that ended) needs no copy.
    bool prefix = true;
    for (size_t i = 0; i < rows.size() && prefix; ++i) prefix = rows[i] == static_cast<int64_t>(i);
    auto take = [&](const Tensor& t) {
      return prefix ? t.narrow(0, 0, static_cast<int64_t>(rows.size())) : index_select(t, 0, index);
    };
    // Beam search only reorders rows among the beams of one source, whose encoder outputs are the
    // same: the memory is copied only when some row now reads another source.
    std::vector<int64_t> sources;
    for (int64_t r : rows) sources.push_back(source_of_row_[static_cast<size_t>(r)]);
    if (sources != source_of_row_) {
      encoded_.memory = take(encoded_.memory);
      encoded_.keys = take(encoded_.keys);
      encoded_.mask = take(encoded_.mask);
      source_of_row_ = std::move(sources);
    }
    for (LstmState& layer : state_.lstm) layer = {take(layer.h), take(layer.c)};
    state_.feed = take(state_.feed);
  }

 private:
  Seq2Seq& model_;
  Seq2Seq::Encoded encoded_;
  Seq2Seq::State state_;
  std::vector<int64_t> source_of_row_;  // the source each row's memory belongs to
};

}  // namespace

Seq2Seq::Seq2Seq(const Seq2SeqOptions& o) : options_(o) {
  DENDRITE_CHECK(o.source_vocab > 0 && o.target_vocab > 0, "Seq2Seq: vocabulary sizes must be positive, got {} and {}",
                 o.source_vocab, o.target_vocab);
  DENDRITE_CHECK(o.attention == "additive" || o.attention == "dot",
                 "Seq2Seq: attention must be \"additive\" or \"dot\", got \"{}\"", o.attention);
  DENDRITE_CHECK(o.dropout >= 0 && o.dropout < 1, "Seq2Seq: dropout must be in [0, 1), got {}", o.dropout);
  DENDRITE_CHECK(o.decoder_layers >= 1, "Seq2Seq: decoder_layers must be >= 1, got {}", o.decoder_layers);
  const int64_t memory = 2 * o.encoder_hidden, hd = o.decoder_hidden;
  source_embed_ = register_module("source_embed", std::make_shared<Embedding>(o.source_vocab, o.embed));
  target_embed_ = register_module("target_embed", std::make_shared<Embedding>(o.target_vocab, o.embed));
  // N(0, 1) embeddings would saturate the LSTM gates at the start; scale them like the weights.
  {
    autograd::NoGradGuard no_grad;
    mul_(source_embed_->weight, 0.1);
    mul_(target_embed_->weight, 0.1);
  }
  encoder_ = register_module("encoder", std::make_shared<LSTM>(o.embed, o.encoder_hidden,
                                                               RnnOptions{.num_layers = o.encoder_layers,
                                                                          .bidirectional = true,
                                                                          .dropout = o.dropout,
                                                                          .batch_first = true}));
  bridge_ = register_module("bridge", std::make_shared<Linear>(memory, hd));
  // The first layer keeps the name it had before there were more, so older checkpoints load.
  decoder_.push_back(register_module("decoder", std::make_shared<LSTMCell>(o.embed + hd, hd)));
  for (int64_t l = 1; l < o.decoder_layers; ++l)
    decoder_.push_back(register_module(fmt::format("decoder_l{}", l), std::make_shared<LSTMCell>(hd, hd)));
  if (o.attention == "additive") {
    attention_ = register_module("attention", std::make_shared<AdditiveAttention>(hd, memory, hd));
  } else {
    attention_ = register_module("attention", std::make_shared<DotAttention>(hd, memory));
  }
  combine_ = register_module("combine", std::make_shared<Linear>(hd + memory, hd, false));
  out_ = register_module("out", std::make_shared<Linear>(hd, o.target_vocab));
}

std::string Seq2Seq::name() const {
  const std::string decoder = options_.decoder_layers == 1
                                  ? std::to_string(options_.decoder_hidden)
                                  : fmt::format("{}x{}", options_.decoder_layers, options_.decoder_hidden);
  return fmt::format("Seq2Seq({} -> {}, embed {}, encoder 2x{}x{}, decoder {}, {} attention)", options_.source_vocab,
                     options_.target_vocab, options_.embed, options_.encoder_layers, options_.encoder_hidden, decoder,
                     options_.attention);
}

Seq2Seq::Encoded Seq2Seq::encode(const Tensor& source, const std::vector<int64_t>& lengths) {
  DENDRITE_CHECK(source.dim() == 2, "{}: source must be [batch, length] token ids, got {}", name(),
                 dendrite::to_string(source.shape()));
  DENDRITE_CHECK(static_cast<int64_t>(lengths.size()) == source.size(0), "{}: {} lengths for a batch of {}", name(),
                 lengths.size(), source.size(0));
  const double p = options_.dropout;
  Tensor x = dropout((*source_embed_)(source), p, is_training());
  RnnOutput r = encoder_->run(x, lengths);
  const int64_t last = r.h_n.size(0);
  // The forward direction's state after each source's last position, the backward one's at its first.
  Tensor final = concat({r.h_n.select(0, last - 2), r.h_n.select(0, last - 1)}, 1);
  Encoded e;
  // The encoder writes time-major; every decoder step reads the memory batch-major, and rows are
  // copied out of it (beam search, rescoring) by the contiguous kernels only.
  e.memory = r.output.contiguous();
  e.keys = attention_->project_keys(e.memory);
  e.mask = length_mask(lengths, source.size(1), e.memory.dtype());
  const int64_t batch = source.size(0), hd = options_.decoder_hidden;
  e.start.lstm.push_back({tanh((*bridge_)(final)), zeros({batch, hd}, e.memory.dtype())});
  for (size_t l = 1; l < decoder_.size(); ++l)
    e.start.lstm.push_back({zeros({batch, hd}, e.memory.dtype()), zeros({batch, hd}, e.memory.dtype())});
  e.start.feed = zeros({batch, hd}, e.memory.dtype());
  return e;
}

Tensor Seq2Seq::decoder_output(const Encoded& e, State& s, const Tensor& embedded) {
  s.lstm[0] = decoder_[0]->step(concat({embedded, s.feed}, 1), s.lstm[0]);
  for (size_t l = 1; l < decoder_.size(); ++l)
    s.lstm[l] = decoder_[l]->step(dropout(s.lstm[l - 1].h, options_.dropout, is_training()), s.lstm[l]);
  const Tensor& top = s.lstm.back().h;
  AttentionResult att = attention_->attend(top, e.keys, e.memory, e.mask);
  s.feed = dropout(tanh((*combine_)(concat({top, att.context}, 1))), options_.dropout, is_training());
  return s.feed;
}

Tensor Seq2Seq::step(const Encoded& e, State& s, const Tensor& tokens) {
  DENDRITE_CHECK(tokens.dim() == 1 && tokens.size(0) == s.feed.size(0), "{}: tokens must be [{}], got {}", name(),
                 s.feed.size(0), dendrite::to_string(tokens.shape()));
  return (*out_)(decoder_output(e, s, (*target_embed_)(tokens)));
}

Tensor Seq2Seq::forward_teacher(const Tensor& source, const std::vector<int64_t>& lengths, const Tensor& target_in) {
  DENDRITE_CHECK(target_in.dim() == 2 && target_in.size(0) == source.size(0),
                 "{}: target_in must be [{}, length] token ids, got {}", name(), source.size(0),
                 dendrite::to_string(target_in.shape()));
  Encoded e = encode(source, lengths);
  State s = e.start;
  Tensor embedded = dropout((*target_embed_)(target_in), options_.dropout, is_training());  // [B, T, E]
  std::vector<Tensor> outputs;
  for (int64_t t = 0; t < target_in.size(1); ++t) outputs.push_back(decoder_output(e, s, embedded.select(1, t)));
  // One GEMM for the output layer of every step.
  return (*out_)(stack(outputs, 1));
}

std::unique_ptr<StepDecoder> Seq2Seq::start_decoding(const Tensor& source, const std::vector<int64_t>& lengths) {
  autograd::NoGradGuard no_grad;
  return std::make_unique<Seq2SeqDecoder>(*this, encode(source, lengths));
}

}  // namespace dendrite::nn
