// Seq2SeqModel: what a sequence-to-sequence trainer, evaluator or command needs from a model, so
// that they work for any architecture (the LSTM Seq2Seq of seq2seq.h, the TransformerSeq2Seq of
// transformer_seq2seq.h):
//
//   logits = model.forward_teacher(source, lengths, target_in);   // training, [B, T, V]
//   auto decoder = model.start_decoding(source, lengths);         // inference (decoding.h)
//
// Sources are padded i64 [B, S] token ids with each row's real length; padding must never change a
// result. Module::forward has no meaning for such a model and throws.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "dendrite/core/error.h"
#include "dendrite/nn/decoding.h"
#include "dendrite/nn/module.h"

namespace dendrite::nn {

class Seq2SeqModel : public Module {
 public:
  // Teacher forcing: target_in i64 [B, T] (BOS, y_1, ..., y_{T-1}) -> logits [B, T, V].
  virtual Tensor forward_teacher(const Tensor& source, const std::vector<int64_t>& lengths,
                                 const Tensor& target_in) = 0;
  // Incremental decoding of a batch of sources; the model must outlive the decoder.
  virtual std::unique_ptr<StepDecoder> start_decoding(const Tensor& source, const std::vector<int64_t>& lengths) = 0;

  Tensor forward(const Tensor&) override {
    fail("{}: call forward_teacher(source, lengths, target_in) to train or start_decoding() to decode", name());
  }
};

}  // namespace dendrite::nn
