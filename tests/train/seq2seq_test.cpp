// Sequence metrics (edit distance, WER and PER against several references) and the Seq2SeqTrainer
// on a tiny copy task: the run directory it leaves and the scores it reports.
#include "dendrite/nn/seq2seq.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "dendrite/nn/transformer_seq2seq.h"
#include "dendrite/optim/adam.h"
#include "dendrite/train/metrics.h"
#include "dendrite/train/seq2seq_trainer.h"
#include "train_test_util.h"

namespace dendrite::train {
namespace {

namespace fs = std::filesystem;

TEST(SeqMetrics, EditDistance) {
  using V = std::vector<int64_t>;
  EXPECT_EQ(edit_distance(V{}, V{}), 0);
  EXPECT_EQ(edit_distance(V{1, 2, 3}, V{}), 3);
  EXPECT_EQ(edit_distance(V{1, 2, 3}, V{1, 3}), 1);
  EXPECT_EQ(edit_distance(V{1, 2, 3}, V{3, 2, 1}), 2);
  const std::vector<std::string> kitten{"k", "i", "t", "t", "e", "n"}, sitting{"s", "i", "t", "t", "i", "n", "g"};
  EXPECT_EQ(edit_distance(kitten, sitting), 3);
}

TEST(SeqMetrics, WordAndPhonemeErrorRatesUseTheBestReference) {
  SequenceErrorRates r;
  r.add({1, 2, 3}, {{1, 2, 4}, {1, 2, 3}});  // matches the alternate: no error
  r.add({1, 2}, {{1, 2, 3, 4}, {5, 6}});     // two deletions against the first (length 4)
  EXPECT_EQ(r.words(), 2);
  EXPECT_EQ(r.word_errors(), 1);
  EXPECT_DOUBLE_EQ(r.wer(), 0.5);
  EXPECT_DOUBLE_EQ(r.per(), 2.0 / 7.0);
  EXPECT_DOUBLE_EQ(SequenceErrorRates().wer(), 0.0);
}

TEST(SeqMetrics, StressFreeClassesMergeStressDigitsOnly) {
  const std::vector<std::string> tokens = {"<pad>", "<s>", "</s>", "<unk>", "AH0", "AH1", "B", "AH2", "ER", "ER1", "3"};
  EXPECT_EQ(stress_free_classes(tokens), (std::vector<int64_t>{0, 1, 2, 3, 4, 4, 6, 4, 8, 8, 10}));
}

TEST(SeqMetrics, ErrorRatesOnStressFreeClasses) {
  // ids: 4 AH0, 5 AH1, 6 B, 7 AH2
  const std::vector<int64_t> classes = stress_free_classes({"<pad>", "<s>", "</s>", "<unk>", "AH0", "AH1", "B", "AH2"});
  SequenceErrorRates stressed, stress_free(classes);
  for (SequenceErrorRates* r : {&stressed, &stress_free}) {
    r->add({5, 6}, {{4, 6}});       // AH1 B for AH0 B: wrong stress only
    r->add({7}, {{6, 6}, {4, 6}});  // AH2 for AH0 B (the closer reference): one deletion either way
    r->add({6, 4}, {{6, 4}});       // right
  }
  EXPECT_DOUBLE_EQ(stressed.wer(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(stressed.per(), 3.0 / 6.0);  // 1 substitution; 2 edits against either reference
  EXPECT_DOUBLE_EQ(stress_free.wer(), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(stress_free.per(), 1.0 / 6.0);
  SequenceErrorRates small({0, 1, 2});
  EXPECT_THROW(small.add({5}, {{1}}), Error);
}

// The oracle picks, per item, the candidate nearest to any reference; its scores bound what any
// reranking of the same lists could reach.
TEST(SeqMetrics, OracleTokensPickTheCandidateNearestAReference) {
  const std::vector<SequenceItem> items = {{{1}, {{4, 5, 6}}},          // the second candidate is exact
                                           {{2}, {{7, 8}, {9, 9, 9}}},  // one edit from the alternate
                                           {{3}, {{4}}},                // two equally near: the first
                                           {{4}, {{5}}}};               // no candidates at all
  const std::vector<std::vector<std::vector<int64_t>>> candidates = {
      {{4, 5}, {4, 5, 6}, {6}}, {{1, 2, 3, 4}, {9, 9}}, {{5}, {6}}, {}};
  const auto oracle = oracle_tokens(items, candidates);
  EXPECT_EQ(oracle, (std::vector<std::vector<int64_t>>{{4, 5, 6}, {9, 9}, {5}, {}}));
  const DecodeScores s = score_hypotheses(items, oracle);
  EXPECT_DOUBLE_EQ(s.wer, 3.0 / 4.0);
  EXPECT_DOUBLE_EQ(s.per, (0.0 + 1 + 1 + 1) / (3 + 3 + 1 + 1));
  // Reranking the first list cannot beat its oracle.
  EXPECT_LE(s.wer, score_hypotheses(items, {{4, 5}, {1, 2, 3, 4}, {6}, {}}).wer);
  EXPECT_THROW(oracle_tokens(items, {{}}), Error);
}

TEST(SeqMetrics, BestAndAllTokensOfNBestLists) {
  const std::vector<std::vector<nn::Hypothesis>> nbest = {{{{4, 5}, -1.0, -0.5}, {{6}, -2.0, -2.0}}, {}};
  EXPECT_EQ(best_tokens(nbest), (std::vector<std::vector<int64_t>>{{4, 5}, {}}));
  EXPECT_EQ(all_tokens(nbest), (std::vector<std::vector<std::vector<int64_t>>>{{{4, 5}, {6}}, {}}));
}

Seq2SeqData copy_task() {
  Seq2SeqData d;
  for (int i = 0; i < 48; ++i) {
    std::vector<int64_t> s;
    for (int k = 0; k < 2 + i % 3; ++k) s.push_back(4 + (i * 7 + k * 3) % 5);
    d.train.push_back({s, s});
    if (i % 8 == 0) d.dev.push_back({s, {s}});
    if (i % 8 == 4) d.test.push_back({s, {s, {4}}});
  }
  return d;
}

TEST(Seq2SeqTrainer, WritesTheRunDirectoryAndScores) {
  testing::ScratchDir tmp;
  manual_seed(3);
  nn::Seq2Seq model({.source_vocab = 9, .target_vocab = 9, .embed = 8, .encoder_hidden = 8, .decoder_hidden = 16});
  optim::Adam opt(model.named_parameters(), {.lr = 0.02});
  const Seq2SeqData data = copy_task();
  Seq2SeqTrainer trainer(model, opt, data,
                         {.epochs = 2,
                          .batch = 16,
                          .out_dir = tmp.path() / "run",
                          .log_every = 2,
                          .beam = 2,
                          .stress_classes = {0, 1, 2, 3, 4, 5, 6, 7, 8},
                          .config = "name = \"copy\"\n"});
  const Seq2SeqSummary s = trainer.fit();
  EXPECT_TRUE(s.completed);
  EXPECT_EQ(s.epochs, 2);
  EXPECT_EQ(s.steps, 6);
  EXPECT_EQ(s.test_greedy.words, 6);
  EXPECT_GE(s.test_beam.wer, 0.0);
  EXPECT_LE(s.test_beam.wer, 1.0);
  // Every token its own class: the stress-free scores are the scores.
  EXPECT_DOUBLE_EQ(s.test_beam.wer_no_stress, s.test_beam.wer);
  EXPECT_DOUBLE_EQ(s.test_greedy.per_no_stress, s.test_greedy.per);
  for (const char* f : {"config.toml", "metrics.jsonl", "summary.json", "curves.svg", "best", "last"})
    EXPECT_TRUE(fs::exists(tmp.path() / "run" / f)) << f;
  const auto records = read_metrics(tmp.path() / "run" / "metrics.jsonl");
  int epochs = 0;
  for (const auto& r : records)
    if (find(r, "kind")->as_string() == "epoch") ++epochs;
  EXPECT_EQ(epochs, 2);
  // A second run into the same directory is refused.
  Seq2SeqTrainer again(model, opt, data, {.epochs = 1, .out_dir = tmp.path() / "run"});
  EXPECT_THROW(again.fit(), Error);
}

TEST(Seq2SeqTrainer, TrainsATransformerThroughTheModelInterface) {
  testing::ScratchDir tmp;
  manual_seed(6);
  nn::TransformerSeq2Seq model({.source_vocab = 9,
                                .target_vocab = 9,
                                .d_model = 16,
                                .heads = 2,
                                .feedforward = 32,
                                .encoder_layers = 1,
                                .decoder_layers = 1,
                                .dropout = 0.1,
                                .max_positions = 16});
  optim::Adam opt(model.named_parameters(), {.lr = 0.01});
  const Seq2SeqData data = copy_task();
  Seq2SeqTrainer trainer(model, opt, data, {.epochs = 2, .batch = 16, .out_dir = tmp.path() / "run", .beam = 2});
  const Seq2SeqSummary s = trainer.fit();
  EXPECT_TRUE(s.completed);
  EXPECT_EQ(s.test_beam.words, 6);
  EXPECT_LT(s.train_loss, 2.2);  // below log(9): it learned something
}

TEST(Seq2SeqTrainer, StopRequestEndsTheRunWithACheckpoint) {
  testing::ScratchDir tmp;
  manual_seed(5);
  nn::Seq2Seq model({.source_vocab = 9, .target_vocab = 9, .embed = 4, .encoder_hidden = 4, .decoder_hidden = 4});
  optim::Adam opt(model.named_parameters(), {.lr = 0.01});
  const Seq2SeqData data = copy_task();
  Seq2SeqTrainer trainer(model, opt, data,
                         {.epochs = 3, .batch = 16, .out_dir = tmp.path() / "run", .should_stop = [] { return true; }});
  const Seq2SeqSummary s = trainer.fit();
  EXPECT_FALSE(s.completed);
  EXPECT_EQ(s.steps, 1);
  EXPECT_EQ(s.test_beam.words, 0);  // no final evaluation
  EXPECT_TRUE(fs::exists(tmp.path() / "run" / "last"));
  EXPECT_TRUE(fs::exists(tmp.path() / "run" / "summary.json"));
}

nn::TransformerSeq2SeqOptions tiny_transformer() {
  return {.source_vocab = 9,
          .target_vocab = 9,
          .d_model = 8,
          .heads = 2,
          .feedforward = 16,
          .encoder_layers = 1,
          .decoder_layers = 1,
          .dropout = 0.2,
          .max_positions = 16};
}

TEST(Seq2SeqTrainer, AResumedRunTakesTheStepsOfTheUninterruptedOne) {
  testing::ScratchDir tmp;
  const Seq2SeqData data = copy_task();
  const Seq2SeqTrainerOptions base{.epochs = 2, .batch = 16, .log_every = 1, .beam = 2};
  manual_seed(8);
  nn::TransformerSeq2Seq whole(tiny_transformer());
  optim::Adam opt_whole(whole.named_parameters(), {.lr = 0.01});
  Seq2SeqTrainerOptions o = base;
  o.out_dir = tmp.path() / "whole";
  const Seq2SeqSummary reference = Seq2SeqTrainer(whole, opt_whole, data, o).fit();

  // The same run stopped in the middle of its second epoch (step 4 of 6), then resumed by a model
  // and optimiser that start elsewhere: the checkpoint restores weights, moments and dropout RNG.
  manual_seed(8);
  nn::TransformerSeq2Seq first(tiny_transformer());
  optim::Adam opt_first(first.named_parameters(), {.lr = 0.01});
  o.out_dir = tmp.path() / "split";
  int steps = 0;
  o.should_stop = [&] { return ++steps == 4; };
  EXPECT_FALSE(Seq2SeqTrainer(first, opt_first, data, o).fit().completed);
  manual_seed(99);
  nn::TransformerSeq2Seq second(tiny_transformer());
  optim::Adam opt_second(second.named_parameters(), {.lr = 0.01});
  o.should_stop = nullptr;
  const Seq2SeqSummary resumed = Seq2SeqTrainer(second, opt_second, data, o).resume();
  EXPECT_TRUE(resumed.completed);
  EXPECT_EQ(resumed.steps, reference.steps);
  EXPECT_DOUBLE_EQ(resumed.train_loss, reference.train_loss);
  EXPECT_EQ(testing::bytes_of(second.named_parameters()), testing::bytes_of(whole.named_parameters()));
  EXPECT_DOUBLE_EQ(resumed.test_beam.wer, reference.test_beam.wer);
  // metrics.jsonl holds each step once.
  int train_records = 0;
  for (const auto& r : read_metrics(tmp.path() / "split" / "metrics.jsonl"))
    if (find(r, "kind")->as_string() == "train") ++train_records;
  EXPECT_EQ(train_records, 6);
}

TEST(Seq2SeqTrainer, ResumeNeedsACheckpoint) {
  testing::ScratchDir tmp;
  nn::TransformerSeq2Seq model(tiny_transformer());
  optim::Adam opt(model.named_parameters(), {.lr = 0.01});
  const Seq2SeqData data = copy_task();
  Seq2SeqTrainer trainer(model, opt, data, {.out_dir = tmp.path() / "none"});
  EXPECT_CONTAINS(testing::error_of([&] { trainer.resume(); }), "no checkpoint to resume (no last/)");
}

TEST(Seq2SeqTrainer, DecodeSourcesKeepsOrderAndEmptySources) {
  manual_seed(4);
  nn::Seq2Seq model({.source_vocab = 9, .target_vocab = 9, .embed = 4, .encoder_hidden = 4, .decoder_hidden = 4});
  const std::vector<std::vector<int64_t>> sources{{4, 5, 6}, {}, {7}};
  auto hyps = decode_sources(model, sources, 2, {.beam = 2, .nbest = 2});
  ASSERT_EQ(hyps.size(), 3u);
  EXPECT_EQ(hyps[1].size(), 1u);
  EXPECT_TRUE(hyps[1][0].tokens.empty());
  EXPECT_EQ(hyps[0].size(), 2u);
  // One at a time gives the same answers as batched.
  auto alone = decode_sources(model, {sources[2]}, 1, {.beam = 2, .nbest = 2});
  EXPECT_EQ(alone[0][0].tokens, hyps[2][0].tokens);
}

}  // namespace
}  // namespace dendrite::train
