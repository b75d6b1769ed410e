// An attention sequence-to-sequence model (the G2P and translation workhorse):
//
//   encoder   source embedding -> bidirectional LSTM over the real length of each source
//   bridge    decoder's initial h = tanh(W [last forward h; first backward h]), c = 0 (the first
//             decoder layer; any others start from zeros)
//   decoder   per step (Luong et al. 2015, input feeding):
//               x_t   = [embed(y_{t-1}); a_{t-1}]
//               h_t   = LSTMCell(x_t, h_{t-1})      (decoder_layers stacked cells, dropout between;
//                                                    the top one's h_t goes on)
//               ctx_t = attention(h_t, encoder outputs)            (additive or dot, attention.h)
//               a_t   = tanh(W_c [h_t; ctx_t])   (dropout in training)
//               p(y_t) = softmax(W_o a_t)
//
// It is one of the Seq2SeqModel architectures (seq2seq_model.h; transformer_seq2seq.h is the other).
// Training uses teacher forcing (forward_teacher); decoding goes through start_decoding, whose
// StepDecoder keeps every row's (h, c, a_{t-1}) so the prefix is never recomputed (decoding.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dendrite/nn/attention.h"
#include "dendrite/nn/decoding.h"
#include "dendrite/nn/layers.h"
#include "dendrite/nn/linear.h"
#include "dendrite/nn/module.h"
#include "dendrite/nn/rnn.h"
#include "dendrite/nn/seq2seq_model.h"

namespace dendrite::nn {

struct Seq2SeqOptions {
  int64_t source_vocab = 0;
  int64_t target_vocab = 0;
  int64_t embed = 64;
  int64_t encoder_hidden = 128;  // per direction
  int64_t encoder_layers = 1;
  int64_t decoder_hidden = 256;
  int64_t decoder_layers = 1;          // stacked decoder LSTM cells
  std::string attention = "additive";  // "additive" (Bahdanau) or "dot" (Luong general)
  double dropout = 0.0;
};

class Seq2Seq : public Seq2SeqModel {
 public:
  explicit Seq2Seq(const Seq2SeqOptions& options);

  struct State {
    std::vector<LstmState> lstm;  // one per decoder layer, [B, decoder_hidden] each
    Tensor feed;     // a_{t-1} [B, decoder_hidden]
  };
  struct Encoded {
    Tensor memory;  // [B, S, 2 * encoder_hidden]
    Tensor keys;    // the attention's projection of memory
    Tensor mask;    // [B, S], 1 on real source positions
    State start;    // the decoder's initial state
  };

  // source i64 [B, S] (padded), lengths: each source's length in [0, S].
  Encoded encode(const Tensor& source, const std::vector<int64_t>& lengths);
  // One decoder step: previous tokens i64 [B] -> logits [B, V]; advances `state`.
  Tensor step(const Encoded& encoded, State& state, const Tensor& tokens);
  // Teacher forcing: target_in i64 [B, T] (BOS, y_1, ..., y_{T-1}) -> logits [B, T, V].
  Tensor forward_teacher(const Tensor& source, const std::vector<int64_t>& lengths, const Tensor& target_in) override;
  // Incremental decoding of a batch of sources (decoding.h); the model must outlive it.
  std::unique_ptr<StepDecoder> start_decoding(const Tensor& source, const std::vector<int64_t>& lengths) override;

  std::string name() const override;
  const Seq2SeqOptions& options() const { return options_; }

 private:
  Tensor decoder_output(const Encoded& encoded, State& state, const Tensor& embedded);  // a_t

  Seq2SeqOptions options_;
  std::shared_ptr<Embedding> source_embed_, target_embed_;
  std::shared_ptr<LSTM> encoder_;
  std::shared_ptr<Linear> bridge_;
  std::vector<std::shared_ptr<LSTMCell>> decoder_;  // bottom first
  std::shared_ptr<RnnAttention> attention_;
  std::shared_ptr<Linear> combine_, out_;
};

}  // namespace dendrite::nn
