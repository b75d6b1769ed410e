// Seq2SeqEnsemble: several trained sequence-to-sequence models that decode as one, each output
// token's distribution the mean of the members' (Sutskever et al. 2014 ensembled five LSTMs this
// way; on CMUdict G2P, an ensemble is how Rao et al. 2015 and Toshniwal & Livescu 2016 reached their
// best word error rates).
//
//   Seq2SeqEnsemble both({run_a_model, run_b_model});
//   auto decoder = both.start_decoding(source, lengths);   // beam_search(*decoder, ...) as usual
//
// log p(y | prefix) = log (1/K sum_k p_k(y | prefix)): a proper distribution, so beam scores and
// length penalties mean what they mean for one model. Each member keeps its own decoding state
// (its own encoder pass, its own cached keys or LSTM states); select() reorders them all.
// forward_teacher returns the same mixture's log-probabilities, which cross_entropy reads as
// logits (log_softmax leaves log-probabilities unchanged), so dev losses compare with one model's.
//
// The members must share the source and target vocabularies (the caller checks the files they
// came from; the ensemble checks that the output sizes agree at every step).
#pragma once

#include <memory>
#include <vector>

#include "dendrite/nn/seq2seq_model.h"

namespace dendrite::nn {

class Seq2SeqEnsemble : public Seq2SeqModel {
 public:
  // At least one member; members are children "0", "1", ... (so train()/eval() reach them).
  explicit Seq2SeqEnsemble(std::vector<std::shared_ptr<Seq2SeqModel>> members);

  Tensor forward_teacher(const Tensor& source, const std::vector<int64_t>& lengths, const Tensor& target_in) override;
  std::unique_ptr<StepDecoder> start_decoding(const Tensor& source, const std::vector<int64_t>& lengths) override;
  std::string name() const override;

  size_t size() const { return members_.size(); }

 private:
  std::vector<std::shared_ptr<Seq2SeqModel>> members_;
};

// log(mean_k exp(log_probs[k])) over same-shaped log-probabilities, computed stably (the largest
// term factored out). Throws naming both shapes when they differ.
Tensor mean_of_probabilities(const std::vector<Tensor>& log_probs);

}  // namespace dendrite::nn
