// The Transformer sequence-to-sequence model (Vaswani et al. 2017, "Attention Is All You Need"),
// in the pre-norm arrangement of transformer.h:
//
//   encoder   x = Dropout(E_src[source] * sqrt(d) + P[0 .. S))
//             N encoder layers (self-attention with the source padding mask), final LayerNorm
//   decoder   y = Dropout(E_tgt[target_in] * sqrt(d) + P[0 .. T))
//             N decoder layers (causal self-attention; cross-attention over the encoder output
//             with the source padding mask), final LayerNorm
//   output    logits = W_o y + b_o
//
// P is the sinusoidal table of the paper or a learned embedding per position (an option). The
// embeddings start at N(0, 1/d), so after the sqrt(d) scale they are of the positions' size.
//
// Padding never changes a result: padded source positions are masked out of every attention, and
// the causal mask keeps padded target positions out of the real ones. Decoding (start_decoding)
// keeps each decoder layer's cached keys and values (TransformerDecoderLayer::start/step), so a
// step costs one position; select() reindexes the caches' rows for beam search.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dendrite/nn/layers.h"
#include "dendrite/nn/linear.h"
#include "dendrite/nn/normalization.h"
#include "dendrite/nn/seq2seq_model.h"
#include "dendrite/nn/transformer.h"

namespace dendrite::nn {

struct TransformerSeq2SeqOptions {
  int64_t source_vocab = 0;
  int64_t target_vocab = 0;
  int64_t d_model = 256;
  int64_t heads = 4;
  int64_t feedforward = 1024;
  int64_t encoder_layers = 3;
  int64_t decoder_layers = 3;
  double dropout = 0.1;
  std::string positions = "sinusoidal";  // "sinusoidal" or "learned"
  // learned positions: the longest source or target (BOS included) the table covers
  int64_t max_positions = 256;
};

class TransformerSeq2Seq : public Seq2SeqModel {
 public:
  explicit TransformerSeq2Seq(const TransformerSeq2SeqOptions& options);

  struct Encoded {
    Tensor memory;  // [B, S, d], after the encoder's final LayerNorm
    Tensor mask;    // [B, 1, 1, S], 1 on real source positions
  };
  Encoded encode(const Tensor& source, const std::vector<int64_t>& lengths);
  // Target tokens i64 [B, T] at positions offset .. offset + T -> the decoder's input [B, T, d].
  Tensor embed_target(const Tensor& tokens, int64_t offset);
  // Decoder output [B, T, d] (before the final LayerNorm) -> logits [B, T, V].
  Tensor logits(const Tensor& decoded);
  std::vector<std::shared_ptr<TransformerDecoderLayer>>& decoder_layers() { return decoder_; }

  Tensor forward_teacher(const Tensor& source, const std::vector<int64_t>& lengths, const Tensor& target_in) override;
  std::unique_ptr<StepDecoder> start_decoding(const Tensor& source, const std::vector<int64_t>& lengths) override;
  std::string name() const override;
  const TransformerSeq2SeqOptions& options() const { return options_; }

 private:
  Tensor add_positions(const Tensor& x, int64_t offset);

  TransformerSeq2SeqOptions options_;
  std::shared_ptr<Embedding> source_embed_, target_embed_;
  std::shared_ptr<LearnedPositions> learned_;  // null for sinusoidal positions
  Tensor sinusoid_;                            // [rows, d]; grown when a longer sequence comes
  std::vector<std::shared_ptr<TransformerEncoderLayer>> encoder_;
  std::vector<std::shared_ptr<TransformerDecoderLayer>> decoder_;
  std::shared_ptr<LayerNorm> encoder_norm_, decoder_norm_;
  std::shared_ptr<Linear> out_;
};

}  // namespace dendrite::nn
