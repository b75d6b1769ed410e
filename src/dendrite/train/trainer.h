// Trainer: the supervised classification loop, with everything a run leaves behind.
//
//   dd::train::Trainer trainer(net, opt, train_loader, &test_loader,
//                              {.epochs = 10, .out_dir = "runs/cnn", .seed = 1});
//   dd::train::RunSummary summary = trainer.fit();          // or trainer.resume("runs/cnn")
//
// Each epoch: train mode, forward, cross-entropy, backward, optional global-norm clipping, the
// schedule's learning rate, step; then evaluation (eval mode, no grad) on the test loader. The run
// directory receives
//
//   config.toml     the caller's resolved recipe, verbatim (options.config)
//   metrics.jsonl   {"kind":"train",...} every log_every steps, {"kind":"epoch",...} per epoch
//   summary.json    test_accuracy, test_loss, train_samples_per_sec, wall_seconds, epochs, steps, ...
//                   and with target_accuracy, target_reached, target_seconds, ... (see TargetReached)
//   last/, best/    checkpoints (checkpoint.h): the latest, and the best by test accuracy
//   curves.svg      loss and accuracy against step
//
// Resuming restores weights, optimiser state (and so the schedule, a function of the step), the
// random generators and the data loader's epoch and batch, so an interrupted run continued with
// resume() ends with the same weights, bit for bit, as one that was never interrupted (same seed
// and thread count). A stop request (should_stop, or Ctrl-C with handle_sigint) ends the run after
// the current step with a checkpoint of that position.
//
// Time to accuracy (options.target_accuracy): the first evaluation whose test accuracy reaches the
// target is recorded (a {"kind":"target"} record in metrics.jsonl and target_* keys in summary.json):
// the wall time since the run began, the time in training steps alone, the step and the training
// samples seen. Evaluations happen at each epoch's end, and every eval_every_steps steps when set
// ({"kind":"eval"} records), which makes the time finer than an epoch. A resumed run finds an
// earlier session's record in metrics.jsonl.
//
// Distributed (options.strategy, dist/strategy.h): every rank runs the same loop over its shard of
// the data; the strategy synchronises gradients or talks to the parameter servers around each
// step. Rank 0 alone writes the run directory (its summary.json gains dist_mode, ranks,
// samples_per_sec, comm_seconds and bytes_sent, and metrics.jsonl one "rank" record per rank).
// Before rank 0 checkpoints, the strategy saves its own state (a parameter server's shards), and
// resume() tells it the step it resumes from (Strategy::before_checkpoint, resume_at).
//
// Thread-safety: a Trainer drives its model, optimiser and loaders from the calling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/data/dataloader.h"
#include "dendrite/nn/module.h"
#include "dendrite/optim/optimizer.h"
#include "dendrite/optim/schedule.h"
#include "dendrite/train/checkpoint.h"
#include "dendrite/train/metrics.h"
#include "dendrite/train/progress.h"

namespace dendrite::dist {
class Strategy;
}

namespace dendrite::train {

struct TrainerOptions {
  int64_t epochs = 10;
  std::filesystem::path out_dir = "runs/run";
  int64_t log_every = 50;        // steps between "train" records in metrics.jsonl
  bool eval_every_epoch = true;  // otherwise only after the last epoch
  uint64_t seed = 0;             // seeds default_generator() (dropout) when a fresh run starts
  int threads = 0;               // set_num_threads when > 0
  int64_t checkpoint_every = 0;  // steps between mid-epoch saves of last/; 0: at epoch ends only
  double clip_grad_norm = 0.0;   // global L2 norm bound; 0: no clipping
  double label_smoothing = 0.0;
  const optim::LRScheduler* scheduler = nullptr;  // sets the lr before every step when given
  std::string config{};                           // the resolved recipe, written verbatim to config_file
  std::string config_file = "config.toml";
  std::string name{};  // the run's name in curves.svg; the directory's name when empty
  // Progress display: a bar on a terminal, periodic lines otherwise (progress.h); null for none.
  std::ostream* progress = nullptr;
  bool progress_terminal = false;  // whether `progress` is a terminal (stdout_is_terminal())
  // Polled after every step; true ends the run there, with a checkpoint of the position.
  std::function<bool()> should_stop{};
  bool handle_sigint = false;  // the first Ctrl-C requests a stop; a second one kills as usual
  // Generators saved and restored besides default_generator() (e.g. one passed to a Dropout).
  std::vector<std::pair<std::string, Generator*>> generators{};
  double target_accuracy = 0.0;  // record when the test accuracy first reaches it (above); 0: never
  int64_t eval_every_steps = 0;  // also evaluate every N steps within an epoch; 0: at epoch ends only
  // Distributed training (not owned); null for a single process.
  dist::Strategy* strategy = nullptr;
};

struct EvalResult {
  double loss = 0.0;      // mean cross-entropy per example
  double accuracy = 0.0;  // fraction of examples whose argmax is the label
  int64_t examples = 0;
};

// When the test accuracy first reached TrainerOptions::target_accuracy.
struct TargetReached {
  double accuracy = 0.0;       // the test accuracy of that evaluation
  double seconds = 0.0;        // wall time since the run began (earlier sessions included), evaluations too
  double train_seconds = 0.0;  // time in training steps alone (this session)
  int64_t step = 0;
  double epoch = 0.0;   // epochs done, fractional for an evaluation within an epoch
  int64_t samples = 0;  // training examples seen by all workers (this process's x the strategy's workers)
};

struct RunSummary {
  bool completed = false;  // false when a stop request ended the run early
  int64_t epochs = 0;      // epochs finished
  int64_t steps = 0;
  double train_loss = 0.0;  // mean over the last finished epoch
  double train_accuracy = 0.0;
  std::optional<EvalResult> test{};  // the last evaluation
  double best_test_accuracy = 0.0;
  int64_t best_epoch = -1;                // 1-based; -1 without evaluation
  double train_samples_per_sec = 0.0;     // training steps only, this process
  double wall_seconds = 0.0;              // the whole run, including earlier sessions of a resumed run
  std::optional<TargetReached> target{};  // when options.target_accuracy was reached, if it was
};

class Trainer {
 public:
  // The trainer keeps references: model, optimizer and loaders must outlive it. test_loader may be
  // null (no evaluation, no best/ checkpoint).
  Trainer(nn::Module& model, optim::Optimizer& optimizer, data::DataLoader& train_loader, data::DataLoader* test_loader,
          TrainerOptions options);

  // A fresh run into options.out_dir, which must not hold a run already (it may exist empty).
  RunSummary fit();
  // Continues the run in `run_dir` from its last/ checkpoint up to options.epochs; the run's files
  // stay in run_dir (options.out_dir is ignored, config is left as it was).
  RunSummary resume(const std::filesystem::path& run_dir);

  // Loss and accuracy of the model over `loader` in eval mode, without recording gradients.
  EvalResult evaluate(data::DataLoader& loader);

 private:
  RunSummary run(const std::filesystem::path& dir, TrainerState state);
  // One epoch from state.batch on; false when a stop request ended it early.
  bool train_epoch(TrainerState& state, MetricsLogger* log, ProgressBar* bar, double& train_seconds, int64_t& samples);
  // Whether this process writes the run directory (always, unless a distributed rank other than 0).
  bool is_writer() const;
  void checkpoint(const std::filesystem::path& dir, TrainerState state);
  bool stop_requested() const;
  // Every rank: the strategy's sync_state (a collective) before rank 0 evaluates or checkpoints.
  void sync_state();
  // An evaluation within an epoch (eval_every_steps): an "eval" record and the target check.
  void evaluate_within_epoch(const TrainerState& state, MetricsLogger* log, double train_seconds, int64_t samples);
  // Records the target the first time `accuracy` reaches it.
  void note_accuracy(double accuracy, const TrainerState& state, double epoch, double train_seconds, int64_t samples,
                     MetricsLogger* log);

  nn::Module& model_;
  optim::Optimizer& optimizer_;
  data::DataLoader& train_loader_;
  data::DataLoader* test_loader_;
  TrainerOptions options_;
  std::filesystem::path run_dir_;
  std::chrono::steady_clock::time_point wall_start_{};  // when this session's run() began
  double earlier_wall_ = 0.0;                           // wall seconds of earlier sessions of the run
  std::optional<TargetReached> target_{};
};

}  // namespace dendrite::train
