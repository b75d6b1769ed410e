// Sequence metrics (edit distance, WER and PER against several references) and the Seq2SeqTrainer
// on a tiny copy task: the run directory it leaves and the scores it reports.
#include <gtest/gtest.h>

#include <filesystem>

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
                          .config = "name = \"copy\"\n"});
  const Seq2SeqSummary s = trainer.fit();
  EXPECT_TRUE(s.completed);
  EXPECT_EQ(s.epochs, 2);
  EXPECT_EQ(s.steps, 6);
  EXPECT_EQ(s.test_greedy.words, 6);
  EXPECT_GE(s.test_beam.wer, 0.0);
  EXPECT_LE(s.test_beam.wer, 1.0);
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
