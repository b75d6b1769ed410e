// The Trainer on a tiny generated problem: the run directory it writes, and the central promise of
// resume: a run interrupted (after an epoch, mid-epoch by a stop request, or by a crash) and then
// resumed in a fresh set of objects ends with the same weights, bit for bit, and the same metrics
// as a run that was never interrupted.
#include <gtest/gtest.h>

#include <csignal>

#include "dendrite/data/data.h"
#include "dendrite/dendrite.h"
#include "dendrite/nn/nn.h"
#include "dendrite/optim/optim.h"
#include "dendrite/train/train.h"
#include "train_test_util.h"

namespace dendrite::train {
namespace {

using testing::bytes_of;
using testing::error_of;
using testing::learnable_dataset;
using testing::read_all;
using testing::ScratchDir;
namespace fs = std::filesystem;

constexpr int64_t kEpochs = 3;
constexpr int64_t kBatchesPerEpoch = 7;  // 100 examples in batches of 16: the last one holds 4

// Everything a training process builds, so a resume can start from nothing like a new process.
struct TrainingProcess {
  std::unique_ptr<nn::Sequential> model;
  std::unique_ptr<optim::Adam> optimizer;
  std::unique_ptr<data::DataLoader> train_loader, test_loader;
  optim::CosineWithWarmup schedule{0.02, 3, kEpochs* kBatchesPerEpoch};

  TrainingProcess() {
    manual_seed(11);  // the same initial weights in every TrainingProcess
    model = std::make_unique<nn::Sequential>(nn::Linear(8, 16), nn::ReLU(), nn::Dropout(0.25), nn::Linear(16, 3));
    optimizer = std::make_unique<optim::Adam>(model->named_parameters(), optim::AdamOptions{.lr = 0.02});
    train_loader = std::make_unique<data::DataLoader>(learnable_dataset(100, 1),
                                                      data::LoaderOptions{.batch = 16, .shuffle = true, .seed = 5});
    test_loader = std::make_unique<data::DataLoader>(learnable_dataset(40, 2), data::LoaderOptions{.batch = 16});
  }

  TrainerOptions options(const fs::path& dir, int64_t epochs) const {
    return TrainerOptions{.epochs = epochs,
                          .out_dir = dir,
                          .log_every = 1,
                          .seed = 3,
                          .clip_grad_norm = 1.0,
                          .scheduler = &schedule,
                          .config = "[train]\nepochs = 3\n"};
  }
  Trainer trainer(TrainerOptions options) {
    return Trainer(*model, *optimizer, *train_loader, test_loader.get(), std::move(options));
  }
};

// The metrics without their timings, which differ from run to run.
std::vector<MetricRecord> deterministic_metrics(const fs::path& dir) {
  std::vector<MetricRecord> out;
  for (MetricRecord record : read_metrics(dir / "metrics.jsonl")) {
    std::erase_if(record, [](const auto& kv) { return kv.first == "samples_per_sec" || kv.first == "seconds"; });
    out.push_back(std::move(record));
  }
  return out;
}

// One uninterrupted run, computed once and compared against by every resume test.
struct Reference {
  std::vector<std::string> weights, optimizer_state;
  std::vector<MetricRecord> metrics;
  RunSummary summary;
};

const Reference& reference() {
  static const Reference ref = [] {
    ScratchDir dir("_reference");
    TrainingProcess s;
    Reference r;
    r.summary = s.trainer(s.options(dir.path(), kEpochs)).fit();
    r.weights = bytes_of(s.model->named_parameters());
    r.optimizer_state = bytes_of(s.optimizer->state());
    r.metrics = deterministic_metrics(dir.path());
    return r;
  }();
  return ref;
}

void expect_matches_reference(const TrainingProcess& s, const RunSummary& summary, const fs::path& dir) {
  const Reference& ref = reference();
  EXPECT_EQ(bytes_of(s.model->named_parameters()), ref.weights) << "weights differ from the uninterrupted run";
  EXPECT_EQ(bytes_of(s.optimizer->state()), ref.optimizer_state);
  EXPECT_EQ(s.optimizer->step_count(), kEpochs * kBatchesPerEpoch);
  EXPECT_EQ(deterministic_metrics(dir), ref.metrics);
  EXPECT_TRUE(summary.completed);
  EXPECT_EQ(summary.steps, ref.summary.steps);
  EXPECT_EQ(summary.test->accuracy, ref.summary.test->accuracy);
  EXPECT_EQ(summary.test->loss, ref.summary.test->loss);
  EXPECT_EQ(summary.train_loss, ref.summary.train_loss);
}

TEST(Trainer, WritesTheRunDirectory) {
  ScratchDir dir;
  TrainingProcess s;
  RunSummary summary = s.trainer(s.options(dir.path(), kEpochs)).fit();
  EXPECT_TRUE(summary.completed);
  EXPECT_EQ(summary.epochs, kEpochs);
  EXPECT_EQ(summary.steps, kEpochs * kBatchesPerEpoch);
  ASSERT_TRUE(summary.test.has_value());
  EXPECT_EQ(summary.test->examples, 40);
  EXPECT_GT(summary.best_test_accuracy, 0.0);
  EXPECT_GE(summary.best_test_accuracy, summary.test->accuracy);

  EXPECT_EQ(read_all(dir / "config.toml"), "[train]\nepochs = 3\n");
  for (const char* name : {"metrics.jsonl", "summary.json", "curves.svg", "last/model.safetensors",
                           "last/optimizer.safetensors", "last/trainer.json", "best/model.safetensors"})
    EXPECT_TRUE(fs::exists(dir / name)) << name;
  EXPECT_EQ(read_trainer_state(dir / "last").step, kEpochs * kBatchesPerEpoch);
  EXPECT_EQ(read_trainer_state(dir / "best").best_epoch, summary.best_epoch);

  std::vector<MetricRecord> metrics = read_metrics(dir / "metrics.jsonl");
  ASSERT_EQ(metrics.size(), static_cast<size_t>(kEpochs * (kBatchesPerEpoch + 1)));
  EXPECT_EQ(find(metrics[0], "kind")->as_string(), "train");
  EXPECT_EQ(find(metrics[0], "step")->as_double(), 1);
  const MetricRecord& epoch1 = metrics[kBatchesPerEpoch];
  EXPECT_EQ(find(epoch1, "kind")->as_string(), "epoch");
  EXPECT_EQ(find(epoch1, "epoch")->as_double(), 1);
  EXPECT_EQ(find(epoch1, "step")->as_double(), kBatchesPerEpoch);
  for (const char* key : {"train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr", "seconds"})
    EXPECT_NE(find(epoch1, key), nullptr) << key;
  // The learning rate follows the schedule: warm-up over the first three steps.
  EXPECT_DOUBLE_EQ(find(metrics[0], "lr")->as_double(), 0.0);
  EXPECT_DOUBLE_EQ(find(metrics[2], "lr")->as_double(), 0.02 * 2 / 3);

  std::string summary_json = read_all(dir / "summary.json");
  for (const char* key : {"\"test_accuracy\"", "\"test_loss\"", "\"train_samples_per_sec\"", "\"wall_seconds\"",
                          "\"epochs\": 3", "\"steps\": 21", "\"completed\": true"})
    EXPECT_NE(summary_json.find(key), std::string::npos) << key << " in " << summary_json;
  std::string svg = read_all(dir / "curves.svg");
  EXPECT_NE(svg.find(">Loss</text>"), std::string::npos);
  EXPECT_NE(svg.find(">Accuracy</text>"), std::string::npos);
}

TEST(Trainer, LearnsTheGeneratedProblem) {
  const Reference& ref = reference();
  double first = find(ref.metrics.front(), "loss")->as_double();
  EXPECT_LT(ref.summary.train_loss, first);
  EXPECT_GT(ref.summary.test->accuracy, 0.5) << "three classes: chance is 1/3";
}

TEST(TrainerResume, AfterAnEpochIsBitExact) {
  ScratchDir dir;
  {
    TrainingProcess first;
    RunSummary part = first.trainer(first.options(dir.path(), 1)).fit();
    EXPECT_EQ(part.steps, kBatchesPerEpoch);
  }
  TrainingProcess second;  // a new process: fresh model, optimiser and loaders
  RunSummary summary = second.trainer(second.options("ignored", kEpochs)).resume(dir.path());
  expect_matches_reference(second, summary, dir.path());
  EXPECT_FALSE(fs::exists("ignored"));
}

TEST(TrainerResume, MidEpochAfterAStopRequestIsBitExact) {
  ScratchDir dir;
  {
    TrainingProcess first;
    TrainerOptions options = first.options(dir.path(), kEpochs);
    int64_t steps = 0;
    options.should_stop = [&] { return ++steps == 10; };  // epoch 2, batch 3
    RunSummary part = first.trainer(std::move(options)).fit();
    EXPECT_FALSE(part.completed);
    EXPECT_EQ(part.steps, 10);
    TrainerState state = read_trainer_state(dir / "last");
    EXPECT_EQ(state.step, 10);
    EXPECT_EQ(state.epoch, 1);
    EXPECT_EQ(state.batch, 3);
    EXPECT_NE(read_all(dir / "summary.json").find("\"completed\": false"), std::string::npos);
  }
  const double earlier_seconds = read_trainer_state(dir / "last").train_seconds;
  EXPECT_GT(earlier_seconds, 0.0);
  TrainingProcess second;
  RunSummary summary = second.trainer(second.options(dir.path(), kEpochs)).resume(dir.path());
  expect_matches_reference(second, summary, dir.path());
  EXPECT_GT(summary.wall_seconds, earlier_seconds) << "wall time adds up over the sessions of a run";
}

TEST(TrainerResume, AfterACrashFromThePeriodicCheckpointIsBitExact) {
  // A crash (here an exception out of the loop at step 10) leaves last/ from the periodic save at
  // step 8 and metrics logged up to step 10; the resumed run drops those and redoes steps 9-10.
  ScratchDir dir;
  {
    TrainingProcess first;
    TrainerOptions options = first.options(dir.path(), kEpochs);
    options.checkpoint_every = 4;
    int64_t steps = 0;
    options.should_stop = [&]() -> bool {
      if (++steps == 10) throw std::runtime_error("simulated crash");
      return false;
    };
    Trainer trainer = first.trainer(std::move(options));
    EXPECT_THROW(trainer.fit(), std::runtime_error);
    EXPECT_EQ(read_trainer_state(dir / "last").step, 8);
    EXPECT_EQ(read_metrics(dir / "metrics.jsonl").size(), 11u);  // 10 steps + 1 epoch
  }
  TrainingProcess second;
  RunSummary summary = second.trainer(second.options(dir.path(), kEpochs)).resume(dir.path());
  expect_matches_reference(second, summary, dir.path());
}

TEST(TrainerResume, AFinishedRunOnlyEvaluates) {
  ScratchDir dir;
  {
    TrainingProcess first;
    first.trainer(first.options(dir.path(), 1)).fit();
  }
  TrainingProcess second;
  RunSummary summary = second.trainer(second.options(dir.path(), 1)).resume(dir.path());
  EXPECT_TRUE(summary.completed);
  EXPECT_EQ(summary.steps, kBatchesPerEpoch);
  ASSERT_TRUE(summary.test.has_value());
}

TEST(Trainer, CtrlCStopsAfterTheStepWithACheckpoint) {
  ScratchDir dir;
  TrainingProcess s;
  TrainerOptions options = s.options(dir.path(), kEpochs);
  options.handle_sigint = true;
  int64_t steps = 0;
  options.should_stop = [&] {
    if (++steps == 3) std::raise(SIGINT);  // as if the user pressed Ctrl-C during step 3
    return false;
  };
  RunSummary summary = s.trainer(std::move(options)).fit();
  EXPECT_FALSE(summary.completed);
  EXPECT_EQ(summary.steps, 3);
  EXPECT_EQ(read_trainer_state(dir / "last").step, 3);
  struct sigaction now {};
  sigaction(SIGINT, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL) << "the previous handler is back";
}

TEST(Trainer, ProgressLinesWhenNotATerminal) {
  ScratchDir dir;
  TrainingProcess s;
  std::ostringstream out;
  TrainerOptions options = s.options(dir.path(), 2);
  options.progress = &out;
  s.trainer(std::move(options)).fit();
  std::string text = out.str();
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_NE(text.find("epoch 1/2 7/7 loss"), std::string::npos) << text;
  EXPECT_NE(text.find("epoch 2/2: train loss"), std::string::npos) << text;
  EXPECT_NE(text.find("| test loss"), std::string::npos) << text;
}

TEST(Trainer, EvaluateKeepsTheModeAndCountsCorrectly) {
  TrainingProcess s;
  Trainer trainer = s.trainer(s.options("unused", 1));
  s.model->train();
  EvalResult result = trainer.evaluate(*s.test_loader);
  EXPECT_TRUE(s.model->is_training());
  EXPECT_EQ(result.examples, 40);

  s.model->eval();
  data::TensorDataset test = learnable_dataset(40, 2);
  Tensor logits = (*s.model)(test.inputs());
  std::vector<int64_t> predicted = to_vector<int64_t>(logits.argmax(1)), labels = to_vector<int64_t>(test.targets());
  int64_t correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) correct += predicted[i] == labels[i];
  EXPECT_DOUBLE_EQ(result.accuracy, static_cast<double>(correct) / 40);
  EXPECT_NEAR(result.loss, cross_entropy(logits, test.targets()).item<double>(), 1e-6);
}

TEST(TrainerErrors, FitRefusesADirectoryHoldingARun) {
  ScratchDir dir;
  {
    TrainingProcess s;
    s.trainer(s.options(dir.path(), 1)).fit();
  }
  TrainingProcess s;
  EXPECT_EQ(error_of([&] { s.trainer(s.options(dir.path(), 1)).fit(); }),
            fmt::format("Trainer: {} already holds a run (it has last/ or metrics.jsonl); resume it, or choose another "
                        "directory",
                        dir.path().string()));
}

TEST(TrainerErrors, ResumeWithoutACheckpoint) {
  ScratchDir dir;
  TrainingProcess s;
  EXPECT_EQ(error_of([&] { s.trainer(s.options(dir.path(), 1)).resume(dir.path()); }),
            fmt::format("checkpoint {}: no such directory", (dir / "last").string()));
}

TEST(TrainerErrors, BadOptions) {
  TrainingProcess s;
  TrainerOptions options = s.options("unused", -1);
  EXPECT_EQ(error_of([&] { s.trainer(options); }), "Trainer: epochs must be >= 0, got -1");
  options = s.options("unused", 1);
  options.clip_grad_norm = -1;
  EXPECT_EQ(error_of([&] { s.trainer(options); }), "Trainer: clip_grad_norm must be >= 0, got -1");
}

}  // namespace
}  // namespace dendrite::train
