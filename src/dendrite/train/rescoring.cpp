#include "dendrite/train/rescoring.h"

#include <algorithm>
#include <set>

#include "dendrite/autograd/autograd.h"
#include "dendrite/core/error.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/softmax.h"

namespace dendrite::train {

std::vector<double> sequence_log_probs(nn::Seq2SeqModel& model, std::span<const data::SequencePair> pairs,
                                       int64_t batch) {
  DENDRITE_CHECK(batch >= 1, "sequence_log_probs: batch must be >= 1, got {}", batch);
  for (size_t i = 0; i < pairs.size(); ++i)
    DENDRITE_CHECK(!pairs[i].source.empty(), "sequence_log_probs: pair {} has an empty source", i);
  autograd::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<double> out(pairs.size(), 0.0);
  // Pairs of similar lengths together, as for training, so that little of a batch is padding.
  for (const auto& idx : data::bucket_batches(pairs, batch, false, 0, 0)) {
    const data::SequenceBatch b = data::make_batch(pairs, idx);
    const Tensor lp = log_softmax(model.forward_teacher(b.source, b.source_lengths, b.target_in), -1);
    const int64_t steps = lp.size(1), vocab = lp.size(2);
    const std::vector<double> values = to_vector<double>(lp);
    const std::vector<int64_t> targets = to_vector<int64_t>(b.target_out);
    const std::vector<float> mask = to_vector<float>(b.target_mask);
    for (size_t r = 0; r < idx.size(); ++r) {
      double total = 0.0;
      for (int64_t t = 0; t < steps; ++t) {
        const auto at = static_cast<size_t>(static_cast<int64_t>(r) * steps + t);
        if (mask[at] == 0.0F) continue;
        total += values[at * static_cast<size_t>(vocab) + static_cast<size_t>(targets[at])];
      }
      out[static_cast<size_t>(idx[r])] = total;
    }
  }
  model.train(was_training);
  return out;
}

std::vector<std::vector<ScoredCandidate>> score_candidates(
    std::span<const RescoringSystem> systems, const std::vector<std::vector<int64_t>>& sources,
    const std::vector<std::vector<std::vector<int64_t>>>& candidates, int64_t batch) {
  DENDRITE_CHECK(!systems.empty(), "rescore: no systems to score with");
  DENDRITE_CHECK(sources.size() == candidates.size(), "rescore: {} sources but {} candidate lists", sources.size(),
                 candidates.size());
  for (const RescoringSystem& s : systems) DENDRITE_CHECK(s.model != nullptr, "rescore: a system has no model");

  std::vector<std::vector<ScoredCandidate>> out(sources.size());
  std::vector<std::pair<size_t, size_t>> owner;  // (source, position in out[source]) of each pair
  std::vector<data::SequencePair> pairs;
  for (size_t i = 0; i < sources.size(); ++i) {
    std::set<std::vector<int64_t>> seen;
    for (const auto& c : candidates[i]) {
      if (!seen.insert(c).second) continue;
      out[i].push_back({c, std::vector<double>(systems.size(), 0.0)});
      if (sources[i].empty()) continue;
      owner.emplace_back(i, out[i].size() - 1);
      pairs.push_back({sources[i], c});
    }
  }
  for (size_t k = 0; k < systems.size(); ++k) {
    std::vector<data::SequencePair> as_written = pairs;
    if (systems[k].right_to_left)
      for (auto& p : as_written) std::reverse(p.target.begin(), p.target.end());
    const std::vector<double> lp = sequence_log_probs(*systems[k].model, as_written, batch);
    for (size_t j = 0; j < pairs.size(); ++j) out[owner[j].first][owner[j].second].log_probs[k] = lp[j];
  }
  return out;
}

std::vector<std::vector<nn::Hypothesis>> rank_candidates(const std::vector<std::vector<ScoredCandidate>>& scored,
                                                         std::span<const double> weights, double length_penalty) {
  DENDRITE_CHECK(length_penalty >= 0, "rescore: length_penalty must be >= 0, got {}", length_penalty);
  std::vector<std::vector<nn::Hypothesis>> out(scored.size());
  for (size_t i = 0; i < scored.size(); ++i) {
    for (const ScoredCandidate& c : scored[i]) {
      DENDRITE_CHECK(c.log_probs.size() == weights.size(), "rescore: {} weights for {} systems", weights.size(),
                     c.log_probs.size());
      double log_prob = 0.0;
      for (size_t k = 0; k < weights.size(); ++k) log_prob += weights[k] * c.log_probs[k];
      const double lp = nn::length_penalty(static_cast<int64_t>(c.tokens.size()) + 1, length_penalty);
      out[i].push_back({c.tokens, log_prob, log_prob / lp});
    }
    std::stable_sort(out[i].begin(), out[i].end(),
                     [](const nn::Hypothesis& a, const nn::Hypothesis& b) { return a.score > b.score; });
  }
  return out;
}

std::vector<std::vector<nn::Hypothesis>> rescore(std::span<const RescoringSystem> systems,
                                                 const std::vector<std::vector<int64_t>>& sources,
                                                 const std::vector<std::vector<std::vector<int64_t>>>& candidates,
                                                 int64_t batch, double length_penalty) {
  DENDRITE_CHECK(length_penalty >= 0, "rescore: length_penalty must be >= 0, got {}", length_penalty);
  std::vector<double> weights;
  for (const RescoringSystem& s : systems) weights.push_back(s.weight);
  return rank_candidates(score_candidates(systems, sources, candidates, batch), weights, length_penalty);
}

}  // namespace dendrite::train
