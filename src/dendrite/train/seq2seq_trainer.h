// Seq2SeqTrainer: the teacher-forced training loop of an nn::Seq2SeqModel (grapheme-to-phoneme,
// translation), writing the same run directory as the classification Trainer (trainer.h):
//
//   config.toml     options.config, verbatim
//   metrics.jsonl   {"kind":"train",...} every log_every steps; {"kind":"epoch",...} per epoch with
//                   the dev loss and the dev word/phoneme error rates of greedy decoding
//                   (test_accuracy = 1 - dev WER, so curves.svg plots word accuracy)
//   summary.json    wer/per on the test set for greedy and beam decoding (from best/), dev wer/per,
//                   the same with stress ignored when options.stress_classes is given
//                   (test_beam_wer_no_stress, ...; seq_metrics.h),
//                   training time, decoding words/s (the scores are 0 when a stop request ended the
//                   run early: it then skips the final evaluation)
//   last/, best/    checkpoints (checkpoint.h); best by dev WER
//   curves.svg
//
// Each step: bucketed batch (data/text_batch.h), cross-entropy over real target tokens only (EOS
// included, padding excluded), backward, optional clipping, the schedule's lr, step.
//
// resume() continues a stopped (or finished and lengthened) run from last/: weights, optimiser
// state, epoch and batch within it, the best dev WER so far and the dropout generator's state,
// so the continuation takes the same steps the uninterrupted run would have.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "dendrite/data/text_batch.h"
#include "dendrite/nn/decoding.h"
#include "dendrite/nn/seq2seq_model.h"
#include "dendrite/optim/optimizer.h"
#include "dendrite/optim/schedule.h"
#include "dendrite/train/checkpoint.h"
#include "dendrite/train/seq_metrics.h"

namespace dendrite::train {

// One evaluation item: a source and every acceptable target (a word's pronunciations).
struct SequenceItem {
  std::vector<int64_t> source;
  std::vector<std::vector<int64_t>> references;
};

struct Seq2SeqData {
  std::vector<data::SequencePair> train;  // one pair per (source, target); alternates are separate pairs
  std::vector<SequenceItem> dev;
  std::vector<SequenceItem> test;
};

struct Seq2SeqTrainerOptions {
  int64_t epochs = 10;
  int64_t batch = 64;
  int64_t eval_batch = 256;  // sources decoded together (beam search: times the beam width rows)
  std::filesystem::path out_dir = "runs/seq2seq";
  int64_t log_every = 50;
  uint64_t seed = 0;
  double clip_grad_norm = 0.0;
  double label_smoothing = 0.0;
  const optim::LRScheduler* scheduler = nullptr;
  int64_t dev_limit = 0;  // evaluate on the first N dev items each epoch; 0: all
  int64_t beam = 5;
  double length_penalty = 1.0;
  // Token classes with stress ignored (stress_free_classes of the target vocabulary): every
  // decoding score is also given on them. Empty: not scored.
  std::vector<int64_t> stress_classes{};
  std::string config{};
  std::string config_file = "config.toml";
  std::string name{};
  std::ostream* progress = nullptr;
  bool progress_terminal = false;
  std::function<bool()> should_stop{};
  bool handle_sigint = false;
};

struct DecodeScores {
  double wer = 0.0, per = 0.0;
  double wer_no_stress = 0.0, per_no_stress = 0.0;  // 0 unless stress classes were given
  int64_t words = 0;
  double words_per_sec = 0.0;
};

struct Seq2SeqSummary {
  bool completed = false;
  int64_t epochs = 0, steps = 0;
  double train_loss = 0.0;
  int64_t best_epoch = -1;
  DecodeScores dev_greedy, test_greedy, test_beam;
  double train_seconds = 0.0, wall_seconds = 0.0;
  double train_tokens_per_sec = 0.0;
};

// The longest output decoding allows for a source of `source_length` tokens.
int64_t max_target_length(int64_t source_length);

// Decodes every item (in batches of similar length, in eval mode, without gradients) and scores
// the best hypothesis of each against its references. beam <= 1 decodes greedily. With
// stress_classes, the *_no_stress scores compare those classes (seq_metrics.h).
// `best`, when given, receives each item's best hypothesis (empty when the decoder found none).
DecodeScores evaluate_decoding(nn::Seq2SeqModel& model, const std::vector<SequenceItem>& items, int64_t batch,
                               int64_t beam, double length_penalty, const std::vector<int64_t>& stress_classes = {},
                               std::vector<std::vector<int64_t>>* best = nullptr);
// Scores each item's best hypothesis (`best`, one per item; empty when none was found) against its
// references, as evaluate_decoding does; words_per_sec is left 0.
DecodeScores score_hypotheses(const std::vector<SequenceItem>& items, const std::vector<std::vector<int64_t>>& best,
                              const std::vector<int64_t>& stress_classes = {});
// The tokens of each list's first (best) hypothesis; empty for an empty list.
std::vector<std::vector<int64_t>> best_tokens(const std::vector<std::vector<nn::Hypothesis>>& nbest);
// The tokens of every hypothesis of each list, in order (the candidate lists oracle_tokens takes).
std::vector<std::vector<std::vector<int64_t>>> all_tokens(const std::vector<std::vector<nn::Hypothesis>>& nbest);
// Each item's candidate nearest to one of its references (fewest edits, the first of equals;
// empty when it has none). Scored by score_hypotheses, these give an n-best list's oracle error
// rates: the best that any reranking of the list could do.
std::vector<std::vector<int64_t>> oracle_tokens(const std::vector<SequenceItem>& items,
                                                const std::vector<std::vector<std::vector<int64_t>>>& candidates);
// Each item's n best hypotheses, in the order of `sources`.
std::vector<std::vector<nn::Hypothesis>> decode_sources(nn::Seq2SeqModel& model,
                                                        const std::vector<std::vector<int64_t>>& sources, int64_t batch,
                                                        const nn::DecodeOptions& options);

class Seq2SeqTrainer {
 public:
  // Keeps references: model, optimizer and data must outlive the trainer.
  Seq2SeqTrainer(nn::Seq2SeqModel& model, optim::Optimizer& optimizer, const Seq2SeqData& data,
                 Seq2SeqTrainerOptions options);
  // A fresh run into options.out_dir (which must not hold a run already).
  Seq2SeqSummary fit();
  // Continues the run in options.out_dir from its last/ checkpoint (options.epochs may be larger
  // than the run's first length).
  Seq2SeqSummary resume();
  // Mean per-token cross-entropy of teacher forcing on `pairs`, in eval mode.
  double evaluate_loss(const std::vector<data::SequencePair>& pairs);

 private:
  Tensor batch_loss(const data::SequenceBatch& batch);
  Seq2SeqSummary run(TrainerState state);
  void checkpoint(const std::filesystem::path& dir, TrainerState state);

  nn::Seq2SeqModel& model_;
  optim::Optimizer& optimizer_;
  const Seq2SeqData& data_;
  Seq2SeqTrainerOptions options_;
};

}  // namespace dendrite::train
