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
//   std::vector<RescoringSystem> systems = {{l2r_model, false}, {r2l_model, true}};
//   auto best_first = rescore(systems, sources, candidates, 256, 1.0);
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "dendrite/data/text_batch.h"
#include "dendrite/nn/decoding.h"
#include "dendrite/nn/seq2seq_model.h"

namespace dendrite::train {

// log p(target | source) of each pair (EOS included), teacher-forced in batches of `batch` pairs,
// in eval mode and without gradients. The model reads the targets as they are given.
std::vector<double> sequence_log_probs(nn::Seq2SeqModel& model, std::span<const data::SequencePair> pairs,
                                       int64_t batch);

struct RescoringSystem {
  nn::Seq2SeqModel* model = nullptr;
  bool right_to_left = false;  // the model writes targets last token first: it scores them reversed
};

// Each source's candidates (left to right; duplicates are scored once), each scored by
// log_prob = the sum over systems of log p(candidate | source) and score = log_prob / lp(length +
// 1) (nn::length_penalty with alpha = length_penalty, EOS counted as in beam search), best first.
// The systems must share the source and target vocabularies.
std::vector<std::vector<nn::Hypothesis>> rescore(std::span<const RescoringSystem> systems,
                                                 const std::vector<std::vector<int64_t>>& sources,
                                                 const std::vector<std::vector<std::vector<int64_t>>>& candidates,
                                                 int64_t batch, double length_penalty);

}  // namespace dendrite::train
