// Time to accuracy: TrainerOptions::target_accuracy records the first evaluation that reaches it,
// and eval_every_steps evaluates within epochs so that the time is finer than an epoch.
#include <gtest/gtest.h>

#include "dendrite/data/data.h"
#include "dendrite/dendrite.h"
#include "dendrite/nn/nn.h"
#include "dendrite/optim/optim.h"
#include "dendrite/train/train.h"
#include "train_test_util.h"

namespace dendrite::train {
namespace {

using testing::error_of;
using testing::learnable_dataset;
using testing::read_all;
using testing::ScratchDir;

struct TinyRun {
  std::unique_ptr<nn::Sequential> model;
  std::unique_ptr<optim::SGD> optimizer;
  std::unique_ptr<data::DataLoader> train_loader, test_loader;

  TinyRun() {
    manual_seed(3);
    model = std::make_unique<nn::Sequential>(nn::Linear(8, 16), nn::ReLU(), nn::Linear(16, 3));
    optimizer = std::make_unique<optim::SGD>(model->named_parameters(), optim::SGDOptions{.lr = 0.1});
    train_loader = std::make_unique<data::DataLoader>(learnable_dataset(100, 1),  // 7 batches per epoch
                                                      data::LoaderOptions{.batch = 16, .shuffle = true, .seed = 5});
    test_loader = std::make_unique<data::DataLoader>(learnable_dataset(40, 2), data::LoaderOptions{.batch = 16});
  }
  RunSummary fit(const std::filesystem::path& dir, double target, int64_t eval_every_steps) {
    Trainer trainer(*model, *optimizer, *train_loader, test_loader.get(),
                    {.epochs = 2,
                     .out_dir = dir,
                     .log_every = 0,
                     .target_accuracy = target,
                     .eval_every_steps = eval_every_steps});
    return trainer.fit();
  }
};

TEST(TrainerTarget, RecordsTheFirstEvaluationThatReachesIt) {
  ScratchDir dir;
  TinyRun s;
  // Any accuracy reaches 0.01: the first evaluation, after step 3, is the one recorded.
  RunSummary summary = s.fit(dir.path(), 0.01, 3);
  ASSERT_TRUE(summary.target.has_value());
  EXPECT_EQ(summary.target->step, 3);
  EXPECT_DOUBLE_EQ(summary.target->epoch, 3.0 / 7.0);
  EXPECT_EQ(summary.target->samples, 48);
  EXPECT_GT(summary.target->seconds, 0.0);
  EXPECT_GE(summary.target->seconds, summary.target->train_seconds);
  EXPECT_LE(summary.target->seconds, summary.wall_seconds);

  // Evaluations within the epochs at steps 3, 6, 9 and 12, besides the two epoch ends (7, 14).
  int evals = 0, targets = 0;
  for (const MetricRecord& r : read_metrics(dir / "metrics.jsonl")) {
    const std::string& kind = find(r, "kind")->as_string();
    evals += kind == "eval";
    targets += kind == "target";
  }
  EXPECT_EQ(evals, 4);
  EXPECT_EQ(targets, 1);
  const std::string json = read_all(dir / "summary.json");
  for (const char* key : {"\"target_accuracy\": 0.01", "\"target_reached\": true", "\"target_step\": 3",
                          "\"target_samples\": 48", "\"target_seconds\"", "\"target_train_seconds\""})
    EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;
}

TEST(TrainerTarget, UnreachedTargetIsNull) {
  ScratchDir dir;
  TinyRun s;
  RunSummary summary = s.fit(dir.path(), 1.0 - 1e-9, 0);
  EXPECT_FALSE(summary.target.has_value());
  const std::string json = read_all(dir / "summary.json");
  for (const char* key : {"\"target_reached\": false", "\"target_seconds\": null", "\"target_step\": -1"})
    EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;
}

TEST(TrainerTarget, NoTargetLeavesTheSummaryAlone) {
  ScratchDir dir;
  TinyRun s;
  EXPECT_FALSE(s.fit(dir.path(), 0.0, 0).target.has_value());
  EXPECT_EQ(read_all(dir / "summary.json").find("target_"), std::string::npos);
}

TEST(TrainerTarget, BadOptions) {
  ScratchDir dir;
  TinyRun s;
  EXPECT_NE(error_of([&] { s.fit(dir.path(), 1.5, 0); }).find("target_accuracy must be in [0, 1], got 1.5"),
            std::string::npos);
  EXPECT_NE(error_of([&] { s.fit(dir.path(), 0.5, -1); }).find("eval_every_steps must be >= 0, got -1"),
            std::string::npos);
}

}  // namespace
}  // namespace dendrite::train
