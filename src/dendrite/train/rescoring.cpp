#include "dendrite/train/rescoring.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "dendrite/autograd/autograd.h"
#include "dendrite/core/error.h"
#include "dendrite/data/vocab.h"
#include "dendrite/ops/creation.h"

namespace dendrite::train {

namespace {

// Pairs that share a source, the source given once.
struct SourceGroup {
  const std::vector<int64_t>* source = nullptr;
  std::vector<size_t> pairs;
};

// Groups of equal sources, shortest source first (so that a batch's sources pad little), cut into
// batches of about `batch` pairs; a group is never split.
std::vector<std::vector<SourceGroup>> grouped_batches(std::span<const data::SequencePair> pairs, int64_t batch) {
  std::map<std::vector<int64_t>, size_t> group_of;
  std::vector<SourceGroup> groups;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto [at, added] = group_of.try_emplace(pairs[i].source, groups.size());
    if (added) groups.push_back({&pairs[i].source, {}});
    groups[at->second].pairs.push_back(i);
  }
  std::stable_sort(groups.begin(), groups.end(),
                   [](const SourceGroup& a, const SourceGroup& b) { return a.source->size() < b.source->size(); });
  std::vector<std::vector<SourceGroup>> batches;
  int64_t rows = batch;
  for (SourceGroup& g : groups) {
    if (rows >= batch) {
      batches.emplace_back();
      rows = 0;
    }
    rows += static_cast<int64_t>(g.pairs.size());
    batches.back().push_back(std::move(g));
  }
  return batches;
}

// Scores one batch of groups: the sources are encoded once, each target's row starts from its
// source's encoding (StepDecoder::select), and the targets are fed token by token, longest first
// so that the rows still running are always a prefix and finished ones are dropped.
void score_batch(nn::Seq2SeqModel& model, std::span<const data::SequencePair> pairs,
                 const std::vector<SourceGroup>& groups, std::vector<double>& out) {
  int64_t width = 0;
  for (const SourceGroup& g : groups) width = std::max(width, static_cast<int64_t>(g.source->size()));
  std::vector<int64_t> source(groups.size() * static_cast<size_t>(width), data::Vocab::kPad), lengths;
  struct Row {
    size_t pair;
    int64_t group;
  };
  std::vector<Row> rows;
  for (size_t g = 0; g < groups.size(); ++g) {
    std::copy(groups[g].source->begin(), groups[g].source->end(),
              source.begin() + static_cast<std::ptrdiff_t>(g) * width);
    lengths.push_back(static_cast<int64_t>(groups[g].source->size()));
    for (size_t p : groups[g].pairs) rows.push_back({p, static_cast<int64_t>(g)});
  }
  auto length_of = [&](const Row& r) { return pairs[r.pair].target.size() + 1; };  // EOS included
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) { return length_of(a) > length_of(b); });

  auto decoder = model.start_decoding(tensor<int64_t>(source, {static_cast<int64_t>(groups.size()), width}), lengths);
  std::vector<int64_t> select;
  for (const Row& r : rows) select.push_back(r.group);
  decoder->select(select);
  size_t live = rows.size();
  std::vector<int64_t> previous(rows.size(), data::Vocab::kBos);
  for (size_t t = 0; live > 0; ++t) {
    const std::vector<float> lp = to_vector<float>(
        decoder->step(tensor<int64_t>(std::span<const int64_t>(previous.data(), live), {static_cast<int64_t>(live)})));
    const size_t vocab = lp.size() / live;
    for (size_t r = 0; r < live; ++r) {
      const std::vector<int64_t>& target = pairs[rows[r].pair].target;
      const int64_t next = t < target.size() ? target[t] : data::Vocab::kEos;
      out[rows[r].pair] += lp[r * vocab + static_cast<size_t>(next)];
      previous[r] = next;
    }
    size_t still = live;
    while (still > 0 && length_of(rows[still - 1]) <= t + 1) --still;
    if (still > 0 && still < live) {
      std::vector<int64_t> keep(still);
      std::iota(keep.begin(), keep.end(), 0);
      decoder->select(keep);
    }
    live = still;
  }
}

}  // namespace

std::vector<double> sequence_log_probs(nn::Seq2SeqModel& model, std::span<const data::SequencePair> pairs,
                                       int64_t batch) {
  DENDRITE_CHECK(batch >= 1, "sequence_log_probs: batch must be >= 1, got {}", batch);
  for (size_t i = 0; i < pairs.size(); ++i)
    DENDRITE_CHECK(!pairs[i].source.empty(), "sequence_log_probs: pair {} has an empty source", i);
  autograd::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<double> out(pairs.size(), 0.0);
  for (const auto& groups : grouped_batches(pairs, batch)) score_batch(model, pairs, groups, out);
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
