// N-best rescoring by several sequence-to-sequence systems, e.g. a left-to-right model and one
// trained to write its targets right to left (Liu, Finch, Utiyama and Sumita 2016, "Agreement on
// target-bidirectional LSTMs for sequence-to-sequence learning": each direction's beam search
// proposes its k best, and the union is reranked by the sum of both directions' log-probabilities;
// on CMUdict G2P it gained over either direction and over a same-direction ensemble).
//
// A right-to-left model errs at the other end of the word: its early decisions (the last phonemes)
// are made knowing nothing of the first ones, the reverse of the left-to-right model's. Scoring a
// whole candidate by both mixes the two kinds of knowledge where a step-by-step ensemble of one
// direction cannot.
//
//   std::vector<RescoringSystem> systems = {{l2r_model, false}, {r2l_model, true, 0.5}};
//   auto best_first = rescore(systems, sources, candidates, 256, 1.0);
//
// The weights are those of a log-linear combination, to be chosen on a dev set: score_candidates
// once, then rank_candidates with each weight tried.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "dendrite/data/text_batch.h"
#include "dendrite/nn/decoding.h"
#include "dendrite/nn/seq2seq_model.h"

namespace dendrite::train {

// log p(target | source) of each pair (EOS included), in eval mode and without gradients. The
// model reads the targets as they are given. Pairs that share a source (an n-best list) share its
// encoding: each distinct source is encoded once and its targets are fed to the model's
// incremental decoder (start_decoding), about `batch` pairs at a time.
std::vector<double> sequence_log_probs(nn::Seq2SeqModel& model, std::span<const data::SequencePair> pairs,
                                       int64_t batch);

struct RescoringSystem {
  nn::Seq2SeqModel* model = nullptr;
  bool right_to_left = false;  // the model writes targets last token first: it scores them reversed
  double weight = 1.0;         // its log-probability's weight in rescore()
};

// A candidate and its log-probability under each system (in the systems' order).
struct ScoredCandidate {
  std::vector<int64_t> tokens;
  std::vector<double> log_probs;
};

// Each source's distinct candidates (left to right; a repeated one is kept once, where it first
// appears) with their log-probabilities under every system. A source that is empty gets its
// candidates with log-probabilities 0 (there is nothing to condition on). The systems must share
// the source and target vocabularies.
std::vector<std::vector<ScoredCandidate>> score_candidates(
    std::span<const RescoringSystem> systems, const std::vector<std::vector<int64_t>>& sources,
    const std::vector<std::vector<std::vector<int64_t>>>& candidates, int64_t batch);

// Each source's candidates as hypotheses, best first: log_prob = sum_k weights[k] * log p_k and
// score = log_prob / lp(length + 1) (nn::length_penalty with alpha = length_penalty; EOS counted as
// beam search counts it). One weight per system.
std::vector<std::vector<nn::Hypothesis>> rank_candidates(const std::vector<std::vector<ScoredCandidate>>& scored,
                                                         std::span<const double> weights, double length_penalty);

// score_candidates then rank_candidates with the systems' weights.
std::vector<std::vector<nn::Hypothesis>> rescore(std::span<const RescoringSystem> systems,
                                                 const std::vector<std::vector<int64_t>>& sources,
                                                 const std::vector<std::vector<std::vector<int64_t>>>& candidates,
                                                 int64_t batch, double length_penalty);

}  // namespace dendrite::train
