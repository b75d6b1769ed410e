#include "dendrite/nn/seq2seq_ensemble.h"

#include <fmt/format.h>

#include <cmath>
#include <string>

#include "dendrite/core/error.h"
#include "dendrite/ops/elementwise.h"
#include "dendrite/ops/join.h"
#include "dendrite/ops/softmax.h"

namespace dendrite::nn {

Tensor mean_of_probabilities(const std::vector<Tensor>& log_probs) {
  DENDRITE_CHECK(!log_probs.empty(), "mean_of_probabilities: no log-probabilities given");
  for (size_t k = 1; k < log_probs.size(); ++k)
    DENDRITE_CHECK(log_probs[k].shape() == log_probs[0].shape(),
                   "ensemble: member {} gives log-probabilities of shape {} but member 0 gives {} (do the "
                   "models share one target vocabulary?)",
                   k, dendrite::to_string(log_probs[k].shape()), dendrite::to_string(log_probs[0].shape()));
  if (log_probs.size() == 1) return log_probs[0];
  const Tensor all = stack(log_probs, 0);
  const Tensor top = all.max({0}, /*keepdim=*/true);
  const Tensor mean = (all - top).exp().sum({0}) / static_cast<double>(log_probs.size());
  return mean.log() + top.squeeze(0);
}

namespace {

class EnsembleDecoder : public StepDecoder {
 public:
  explicit EnsembleDecoder(std::vector<std::unique_ptr<StepDecoder>> members) : members_(std::move(members)) {}

  Tensor step(const Tensor& tokens) override {
    std::vector<Tensor> log_probs;
    log_probs.reserve(members_.size());
    for (auto& m : members_) log_probs.push_back(m->step(tokens));
    return mean_of_probabilities(log_probs);
  }
  void select(const std::vector<int64_t>& rows) override {
    for (auto& m : members_) m->select(rows);
  }

 private:
  std::vector<std::unique_ptr<StepDecoder>> members_;
};

}  // namespace

Seq2SeqEnsemble::Seq2SeqEnsemble(std::vector<std::shared_ptr<Seq2SeqModel>> members) : members_(std::move(members)) {
  DENDRITE_CHECK(!members_.empty(), "Seq2SeqEnsemble: needs at least one model");
  for (size_t k = 0; k < members_.size(); ++k) {
    DENDRITE_CHECK(members_[k] != nullptr, "Seq2SeqEnsemble: model {} is null", k);
    register_module(std::to_string(k), members_[k]);
  }
}

Tensor Seq2SeqEnsemble::forward_teacher(const Tensor& source, const std::vector<int64_t>& lengths,
                                        const Tensor& target_in) {
  std::vector<Tensor> log_probs;
  log_probs.reserve(members_.size());
  for (auto& m : members_) log_probs.push_back(log_softmax(m->forward_teacher(source, lengths, target_in), -1));
  return mean_of_probabilities(log_probs);
}

std::unique_ptr<StepDecoder> Seq2SeqEnsemble::start_decoding(const Tensor& source,
                                                             const std::vector<int64_t>& lengths) {
  std::vector<std::unique_ptr<StepDecoder>> decoders;
  decoders.reserve(members_.size());
  for (auto& m : members_) decoders.push_back(m->start_decoding(source, lengths));
  return std::make_unique<EnsembleDecoder>(std::move(decoders));
}

std::string Seq2SeqEnsemble::name() const {
  std::string out = "Seq2SeqEnsemble(";
  for (size_t k = 0; k < members_.size(); ++k) out += (k > 0 ? ", " : "") + members_[k]->name();
  return out + ")";
}

}  // namespace dendrite::nn
