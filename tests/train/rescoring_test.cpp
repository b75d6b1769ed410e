// N-best rescoring: a sequence's log-probability is what step-by-step decoding and teacher forcing
// give it alone (EOS included), whatever it is batched with and however many targets share its
// source; rescore sums the systems, reverses the candidates
// for a right-to-left system, scores a repeated candidate once, and ranks by the length-normalised
// score; bad arguments are errors that say what is wrong.
#include "dendrite/train/rescoring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "dendrite/autograd/autograd.h"
#include "dendrite/core/random.h"
#include "dendrite/nn/seq2seq.h"
#include "dendrite/nn/transformer_seq2seq.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/softmax.h"
#include "support/errors.h"

namespace dendrite::train {
namespace {

using test_support::error_of;

std::shared_ptr<nn::Seq2Seq> tiny(uint64_t seed) {
  manual_seed(seed);
  auto model = std::make_shared<nn::Seq2Seq>(
      nn::Seq2SeqOptions{.source_vocab = 9, .target_vocab = 8, .embed = 8, .encoder_hidden = 8, .decoder_hidden = 12});
  model->eval();
  return model;
}

// log p(target | source) by feeding the decoder the target one token at a time, one source alone.
double stepped_log_prob(nn::Seq2SeqModel& model, const std::vector<int64_t>& source,
                        const std::vector<int64_t>& target) {
  autograd::NoGradGuard no_grad;
  const auto length = static_cast<int64_t>(source.size());
  auto decoder = model.start_decoding(tensor<int64_t>(source, {1, length}), {length});
  int64_t previous = 1;  // BOS
  double total = 0.0;
  for (size_t t = 0; t <= target.size(); ++t) {
    const int64_t next = t < target.size() ? target[t] : 2;  // EOS last
    const std::vector<double> lp =
        to_vector<double>(decoder->step(tensor<int64_t>(std::vector<int64_t>{previous}, {1})));
    total += lp.at(static_cast<size_t>(next));
    previous = next;
  }
  return total;
}

const std::vector<data::SequencePair> kPairs = {
    {{4, 5, 6}, {3, 4}}, {{7, 8}, {5}}, {{4, 4, 5, 6, 7}, {6, 7, 3, 3}}, {{5, 6, 7}, {}}, {{8, 7, 6}, {4, 5, 6}}};

TEST(Rescoring, SequenceLogProbsAreStepByStepDecodingsWhateverTheBatch) {
  auto model = tiny(3);
  for (int64_t batch : {1, 2, 5}) {
    const std::vector<double> lp = sequence_log_probs(*model, kPairs, batch);
    ASSERT_EQ(lp.size(), kPairs.size());
    for (size_t i = 0; i < kPairs.size(); ++i) {
      EXPECT_LT(lp[i], 0.0);
      EXPECT_NEAR(lp[i], stepped_log_prob(*model, kPairs[i].source, kPairs[i].target), 1e-4)
          << "pair " << i << ", batch " << batch;
    }
  }
}

// log p(target | source) by teacher forcing one pair alone: the oracle for scoring that shares a
// source's encoding among its targets.
double teacher_forced_log_prob(nn::Seq2SeqModel& model, const data::SequencePair& pair) {
  autograd::NoGradGuard no_grad;
  const auto length = static_cast<int64_t>(pair.source.size());
  std::vector<int64_t> in = {1};  // BOS
  in.insert(in.end(), pair.target.begin(), pair.target.end());
  const auto steps = static_cast<int64_t>(in.size());
  const Tensor lp = log_softmax(
      model.forward_teacher(tensor<int64_t>(pair.source, {1, length}), {length}, tensor<int64_t>(in, {1, steps})), -1);
  const std::vector<double> values = to_vector<double>(lp);
  const auto vocab = static_cast<size_t>(lp.size(2));
  double total = 0.0;
  for (size_t t = 0; t < in.size(); ++t)
    total += values[t * vocab + static_cast<size_t>(t < pair.target.size() ? pair.target[t] : 2)];
  return total;
}

// An n-best list: many targets (of different lengths, one empty, one repeated) per source, sources
// of different lengths, batches that end inside and between the groups.
TEST(Rescoring, TargetsSharingASourceScoreAsIfAloneForEitherArchitecture) {
  const std::vector<data::SequencePair> pairs = {
      {{4, 5, 6}, {3, 4}}, {{7, 8}, {5}},       {{4, 5, 6}, {3, 4, 5, 6}}, {{4, 5, 6}, {}},  {{7, 8}, {5, 5, 5}},
      {{8, 7, 6, 5}, {4}}, {{4, 5, 6}, {3, 4}}, {{7, 8}, {6, 3}},          {{4}, {7, 7, 3}}, {{8, 7, 6, 5}, {3, 3}}};
  manual_seed(6);
  auto transformer = std::make_shared<nn::TransformerSeq2Seq>(nn::TransformerSeq2SeqOptions{.source_vocab = 9,
                                                                                            .target_vocab = 8,
                                                                                            .d_model = 16,
                                                                                            .heads = 2,
                                                                                            .feedforward = 32,
                                                                                            .encoder_layers = 1,
                                                                                            .decoder_layers = 2,
                                                                                            .dropout = 0.0});
  transformer->eval();
  const std::vector<std::shared_ptr<nn::Seq2SeqModel>> models = {tiny(7), transformer};
  for (const auto& model : models) {
    for (int64_t batch : {1, 3, 4, 100}) {
      const std::vector<double> lp = sequence_log_probs(*model, pairs, batch);
      ASSERT_EQ(lp.size(), pairs.size());
      for (size_t i = 0; i < pairs.size(); ++i)
        EXPECT_NEAR(lp[i], teacher_forced_log_prob(*model, pairs[i]), 1e-4)
            << model->name() << ", pair " << i << ", batch " << batch;
    }
  }
}

TEST(Rescoring, SequenceLogProbsLeaveTrainingModeAsItWas) {
  auto model = tiny(3);
  model->train();
  static_cast<void>(sequence_log_probs(*model, kPairs, 2));
  EXPECT_TRUE(model->is_training());
}

TEST(Rescoring, SumsTheSystemsReversingForARightToLeftOne) {
  auto forward = tiny(4), backward = tiny(5);
  const std::vector<std::vector<int64_t>> sources = {{4, 5, 6}, {7, 8}};
  const std::vector<std::vector<std::vector<int64_t>>> candidates = {{{3, 4}, {4, 3, 5}, {3, 4}, {6}}, {{5, 5}}};
  const std::vector<RescoringSystem> systems = {{forward.get(), false}, {backward.get(), true}};
  const double alpha = 0.7;
  const auto ranked = rescore(systems, sources, candidates, 3, alpha);
  ASSERT_EQ(ranked.size(), 2u);
  ASSERT_EQ(ranked[0].size(), 3u);  // {3, 4} twice is scored once
  ASSERT_EQ(ranked[1].size(), 1u);
  for (size_t i = 0; i < ranked.size(); ++i) {
    for (size_t k = 0; k < ranked[i].size(); ++k) {
      const nn::Hypothesis& h = ranked[i][k];
      std::vector<int64_t> reversed = h.tokens;
      std::reverse(reversed.begin(), reversed.end());
      const double expected =
          stepped_log_prob(*forward, sources[i], h.tokens) + stepped_log_prob(*backward, sources[i], reversed);
      EXPECT_NEAR(h.log_prob, expected, 1e-4);
      // The score is the summed log-probability over the length penalty, checked on h's own sum
      // (`expected` was summed in another order, so it agrees to ~1e-7 only).
      EXPECT_NEAR(h.score, h.log_prob / std::pow((5.0 + static_cast<double>(h.tokens.size()) + 1.0) / 6.0, alpha),
                  1e-12);
      if (k > 0) {
        EXPECT_GE(ranked[i][k - 1].score, h.score);
      }
    }
  }
}

TEST(Rescoring, RanksByTheWeightedSumOfEachSystemsLogProbability) {
  auto forward = tiny(4), backward = tiny(5);
  const std::vector<std::vector<int64_t>> sources = {{4, 5, 6}};
  const std::vector<std::vector<std::vector<int64_t>>> candidates = {{{3, 4}, {4, 3, 5}, {6}, {3, 4}}};
  const std::vector<RescoringSystem> systems = {{forward.get(), false}, {backward.get(), true}};
  const auto scored = score_candidates(systems, sources, candidates, 2);
  ASSERT_EQ(scored.size(), 1u);
  ASSERT_EQ(scored[0].size(), 3u);  // in first-seen order, the repeat dropped
  EXPECT_EQ(scored[0][1].tokens, (std::vector<int64_t>{4, 3, 5}));
  for (const ScoredCandidate& c : scored[0]) {
    std::vector<int64_t> reversed = c.tokens;
    std::reverse(reversed.begin(), reversed.end());
    ASSERT_EQ(c.log_probs.size(), 2u);
    EXPECT_NEAR(c.log_probs[0], stepped_log_prob(*forward, sources[0], c.tokens), 1e-4);
    EXPECT_NEAR(c.log_probs[1], stepped_log_prob(*backward, sources[0], reversed), 1e-4);
  }
  for (const double w : {0.0, 0.5, 3.0}) {
    const std::vector<double> weights = {1.0, w};
    const auto ranked = rank_candidates(scored, weights, 0.0);
    ASSERT_EQ(ranked[0].size(), 3u);
    for (size_t k = 0; k < ranked[0].size(); ++k) {
      const auto it = std::find_if(scored[0].begin(), scored[0].end(),
                                   [&](const ScoredCandidate& c) { return c.tokens == ranked[0][k].tokens; });
      ASSERT_NE(it, scored[0].end());
      EXPECT_DOUBLE_EQ(ranked[0][k].log_prob, it->log_probs[0] + w * it->log_probs[1]);
      EXPECT_DOUBLE_EQ(ranked[0][k].score, ranked[0][k].log_prob);  // alpha 0: no length penalty
      if (k > 0) {
        EXPECT_GE(ranked[0][k - 1].score, ranked[0][k].score);
      }
    }
  }
  const std::vector<double> one = {1.0};
  EXPECT_EQ(error_of([&] { return rank_candidates(scored, one, 1.0); }), "rescore: 1 weights for 2 systems");
}

TEST(Rescoring, AnEmptySourceKeepsItsCandidatesUnscored) {
  auto model = tiny(4);
  const std::vector<RescoringSystem> systems = {{model.get(), false}};
  const auto ranked = rescore(systems, {{}, {4, 5}}, {{{}}, {{3}}}, 4, 1.0);
  ASSERT_EQ(ranked[0].size(), 1u);
  EXPECT_TRUE(ranked[0][0].tokens.empty());
  EXPECT_EQ(ranked[0][0].log_prob, 0.0);
  EXPECT_LT(ranked[1][0].log_prob, 0.0);
}

TEST(Rescoring, BadArgumentsSayWhatIsWrong) {
  auto model = tiny(4);
  const std::vector<RescoringSystem> systems = {{model.get(), false}};
  EXPECT_EQ(error_of([&] { return rescore({}, {{4}}, {{{3}}}, 4, 1.0); }), "rescore: no systems to score with");
  EXPECT_EQ(error_of([&] {
              return rescore(systems, {{4}, {5}}, {{{3}}}, 4, 1.0);
            }),
            "rescore: 2 sources but 1 candidate lists");
  EXPECT_EQ(error_of([&] { return rescore(systems, {{4}}, {{{3}}}, 4, -1.0); }),
            "rescore: length_penalty must be >= 0, got -1");
  EXPECT_EQ(error_of([&] { return sequence_log_probs(*model, kPairs, 0); }),
            "sequence_log_probs: batch must be >= 1, got 0");
  const std::vector<data::SequencePair> empty_source = {{{4}, {3}}, {{}, {3}}};
  EXPECT_EQ(error_of([&] { return sequence_log_probs(*model, empty_source, 2); }),
            "sequence_log_probs: pair 1 has an empty source");
}

}  // namespace
}  // namespace dendrite::train
