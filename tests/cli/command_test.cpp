// The `dendrite` command end to end, in-process through run_cli (the same code path as main):
// train on a tiny generated Fashion-MNIST-shaped data set, then eval, predict and resume the run,
// and the error lines for bad input.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "data/test_files.h"
#include "cli/cli_test_util.h"
#include "dendrite/cli/commands.h"
#include "dendrite/kernels/precision.h"
#include "dendrite/train/metrics.h"

namespace dendrite::cli {
namespace {

namespace fs = std::filesystem;
namespace files = data::files;
using ::testing::HasSubstr;

using testing::Result;
Result run(std::vector<std::string> args) { return testing::run_dendrite(std::move(args)); }

// 28x28 grey images whose brightness pattern depends on the class, in the four IDX files
// (uncompressed, which the reader also accepts) of the Fashion-MNIST layout.
void write_fake_fashion_mnist(const fs::path& dir, uint32_t train, uint32_t test) {
  auto write_split = [&](const std::string& prefix, uint32_t n) {
    files::Bytes pixels, labels;
    for (uint32_t i = 0; i < n; ++i) {
      const uint8_t label = static_cast<uint8_t>(i % 10);
      labels.push_back(label);
      for (int p = 0; p < 28 * 28; ++p)
        pixels.push_back(static_cast<uint8_t>((p / 28 == label * 2) ? 255 : (i * 7 + p) % 32));
    }
    files::write_file(dir / (prefix + "-images-idx3-ubyte"), files::idx_u8({n, 28, 28}, pixels), false);
    files::write_file(dir / (prefix + "-labels-idx1-ubyte"), files::idx_u8({n}, labels), false);
  };
  write_split("train", train);
  write_split("t10k", test);
}

class Command : public ::testing::Test {
 protected:
  void SetUp() override { write_fake_fashion_mnist(tmp_.path(), 96, 40); }
  std::string data_dir() const { return "data.dir=" + tmp_.path().string(); }
  std::string run_dir() const { return (tmp_ / "run").string(); }
  // A fast variant of the built-in MLP recipe on the fake data.
  std::vector<std::string> train_args(int epochs, const std::string& out = "") const {
    return {"train",         "fashion-mlp",
            "--set",         data_dir(),
            "--set",         "model.hidden=[16]",
            "--epochs",      std::to_string(epochs),
            "--batch",       "32",
            "--threads",     "1",
            "--limit-train", "64",
            "--limit-test",  "30",
            "--out",         out.empty() ? run_dir() : out};
  }

  files::TempDir tmp_;
};

TEST_F(Command, TrainWritesARunThatEvalAndPredictUse) {
  Result r = run(train_args(1));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("training fashion-mlp: 12730 parameters, 64 training and 30 test examples, 1 threads"));
  EXPECT_THAT(r.out, HasSubstr("test accuracy"));
  for (const char* f : {"config.toml", "metrics.jsonl", "summary.json", "curves.svg", "last/model.safetensors",
                        "last/optimizer.safetensors", "best/model.safetensors"})
    EXPECT_TRUE(fs::exists(tmp_ / "run" / f)) << f;

  std::ifstream summary_file(tmp_ / "run" / "summary.json");
  const nlohmann::json summary = nlohmann::json::parse(summary_file);
  EXPECT_EQ(summary["epochs"], 1);
  EXPECT_EQ(summary["steps"], 2);  // 64 examples in batches of 32
  EXPECT_TRUE(summary.contains("test_accuracy"));
  EXPECT_TRUE(summary.contains("train_samples_per_sec"));
  EXPECT_TRUE(summary.contains("wall_seconds"));

  // The config is the resolved recipe, overrides included, and is itself a recipe.
  std::ifstream config_file(tmp_ / "run" / "config.toml");
  const std::string config((std::istreambuf_iterator<char>(config_file)), {});
  EXPECT_THAT(config, HasSubstr("hidden = [16]"));
  EXPECT_THAT(config, HasSubstr("limit_train = 64"));
  EXPECT_THAT(config, HasSubstr("out = \"" + run_dir() + "\""));
  r = run({"train", (tmp_ / "run" / "config.toml").string(), "--print-recipe"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("name = \"fashion-mlp\""));

  r = run({"eval", run_dir(), "--threads", "1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("test accuracy"));
  EXPECT_THAT(r.out, HasSubstr("of 30)"));
  EXPECT_THAT(r.out, HasSubstr((tmp_ / "run" / "best").string()));

  files::write_png(tmp_ / "a.png", 28, 28, 1, files::Bytes(28 * 28, 40));
  files::write_png(tmp_ / "b.png", 28, 28, 3, files::Bytes(28 * 28 * 3, 200));
  r = run({"predict", run_dir(), (tmp_ / "a.png").string(), (tmp_ / "b.png").string(), "--top", "2"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr((tmp_ / "a.png").string() + ": "));
  EXPECT_THAT(r.out, HasSubstr((tmp_ / "b.png").string() + ": "));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("a\\.png: [A-Za-z/ -]+ [01]\\.[0-9]{3}, [A-Za-z/ -]+ [01]\\.[0-9]{3}"));
}

TEST_F(Command, EnsembleIsForSequenceRunsOnly) {
  ASSERT_EQ(run(train_args(1)).status, 0);
  for (const std::string command : {"eval", "predict"}) {
    std::vector<std::string> args{command, run_dir(), "--ensemble", run_dir()};
    if (command == "predict") args.push_back((tmp_ / "a.png").string());
    Result r = run(args);
    EXPECT_EQ(r.status, 1) << command;
    EXPECT_THAT(r.err, HasSubstr("--ensemble: only g2p runs decode as an ensemble; " + run_dir() + " is a mlp run"))
        << command;
    args[2] = "--rescore";
    r = run(args);
    EXPECT_EQ(r.status, 1) << command;
    EXPECT_THAT(r.err, HasSubstr("--rescore: only g2p runs rescore their n-best; " + run_dir() + " is a mlp run"))
        << command;
    args[2] = "--rescore-weight";
    args[3] = "0.5";
    r = run(args);
    EXPECT_EQ(r.status, 1) << command;
    EXPECT_THAT(r.err,
                HasSubstr("--rescore-weight: only g2p runs rescore their n-best; " + run_dir() + " is a mlp run"))
        << command;
  }
}

TEST_F(Command, ErrorListIsForSequenceRunsOnly) {
  ASSERT_EQ(run(train_args(1)).status, 0);
  Result r = run({"eval", run_dir(), "--errors", (tmp_ / "errors.tsv").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("--errors: only g2p runs list their wrong words; " + run_dir() + " is a mlp run"));
}

TEST_F(Command, SplitAndBeamAreForSequenceRunsOnly) {
  ASSERT_EQ(run(train_args(1)).status, 0);
  Result split = run({"eval", run_dir(), "--split", "dev"});
  EXPECT_EQ(split.status, 1);
  EXPECT_THAT(split.err,
              HasSubstr("--split: only g2p runs have a dev split to decode; " + run_dir() + " is a mlp run"));
  Result beam = run({"eval", run_dir(), "--beam", "3"});
  EXPECT_EQ(beam.status, 1);
  EXPECT_THAT(beam.err, HasSubstr("--beam, --length-penalty: only g2p runs decode; " + run_dir() + " is a mlp run"));
}

TEST_F(Command, ResumeExtendsARunAndMatchesAnUninterruptedOne) {
  // Without a schedule (whose length follows the epochs) one epoch resumed to two must give the
  // weights of two epochs in one go, bit for bit: seeds, data order, dropout and optimiser state
  // all carry over.
  std::vector<std::string> args = train_args(1);
  args.insert(args.end(), {"--set", "schedule.kind=none"});
  ASSERT_EQ(run(args).status, 0);
  Result r = run({"train", "--resume", run_dir(), "--epochs", "2"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("resuming fashion-mlp"));
  args = train_args(2, (tmp_ / "straight").string());
  args.insert(args.end(), {"--set", "schedule.kind=none"});
  ASSERT_EQ(run(args).status, 0);
  EXPECT_EQ(files::read_bytes(tmp_ / "run" / "last" / "model.safetensors"),
            files::read_bytes(tmp_ / "straight" / "last" / "model.safetensors"));
  std::ifstream summary_file(tmp_ / "run" / "summary.json");
  EXPECT_EQ(nlohmann::json::parse(summary_file)["epochs"], 2);
  std::ifstream config_file(tmp_ / "run" / "config.toml");
  const std::string config((std::istreambuf_iterator<char>(config_file)), {});
  EXPECT_THAT(config, HasSubstr("epochs = 2"));

  r = run({"train", "--resume", run_dir(), "--lr", "0.5"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("only --epochs and --threads may change when resuming"));
  r = run({"train", "fashion-cnn", "--resume", run_dir()});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("the run is of recipe 'fashion-mlp', not 'fashion-cnn'"));
}

// bf16 products for the run only: the setting is process-wide and must be back to f32 after.
TEST_F(Command, PrecisionAppliesToTheRunAndIsRestored) {
  std::vector<std::string> args = train_args(1);
  args.insert(args.end(), {"--set", "model.hidden=[32]", "--precision", "bf16"});
  const Result r = run(args);
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream config(fs::path(run_dir()) / "config.toml");
  const std::string text((std::istreambuf_iterator<char>(config)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("precision = \"bf16\""));
  EXPECT_EQ(kernels::math_precision(), kernels::MathPrecision::f32);
  EXPECT_THAT(run({"train", "fashion-mlp", "--precision", "fp16", "--print-recipe"}).err,
              HasSubstr("key 'train.precision' is \"fp16\"; choose one of: f32, bf16"));
}

TEST_F(Command, ATakenRunDirectoryIsAnError) {
  ASSERT_EQ(run(train_args(1)).status, 0);
  const Result r = run(train_args(1));
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("dendrite: error: Trainer: " + run_dir() + " already holds a run"));
}

TEST_F(Command, PredictRejectsAnImageOfAnotherSize) {
  ASSERT_EQ(run(train_args(1)).status, 0);
  files::write_png(tmp_ / "big.png", 32, 30, 1, files::Bytes(32 * 30, 0));
  const Result r = run({"predict", run_dir(), (tmp_ / "big.png").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("dendrite: error: " + (tmp_ / "big.png").string() +
                               ": the image is 30x32 (height x width), the model takes 28x28"));
}

TEST(CommandImageFolder, TrainsOnAUsersOwnPngsAndNamesTheirClasses) {
  files::TempDir dir;
  for (const char* split : {"train", "test"}) {
    fs::create_directories(dir / split);
    std::string csv = "filename,label\n";
    for (int i = 0; i < 8; ++i) {
      const std::string name = fmt::format("img{}.png", i);
      files::write_png(dir / split / name, 6, 8, 1, files::Bytes(6 * 8, static_cast<uint8_t>(i % 2 ? 220 : 20)));
      csv += fmt::format("{},{}\n", name, i % 2);
    }
    files::write_text(dir / split / "labels.csv", csv);
  }
  files::write_text(dir / "mine.toml", fmt::format(R"(
description = "dark or light"
[model]
input = [1, 8, 6]
classes = 2
hidden = [4]
[data]
dataset = "image-folder"
dir = "{}"
class_names = ["dark", "light"]
[train]
epochs = 2
batch = 4
threads = 1
out = "{}"
)",
                                                   dir.path().string(), (dir / "run").string()));
  Result r = run({"train", (dir / "mine.toml").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("training mine: 206 parameters, 8 training and 8 test examples"));
  r = run({"predict", (dir / "run").string(), (dir / "test" / "img1.png").string(), "--top", "2"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out,
              ::testing::ContainsRegex("img1\\.png: (dark|light) [01]\\.[0-9]{3}, (dark|light) [01]\\.[0-9]{3}"));

  // A model input that does not match the images is caught before training.
  r = run({"train", (dir / "mine.toml").string(), "--set", "model.input=[1, 8, 8]", "--out", (dir / "run2").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("model.input is [1, 8, 8] but the training images are [8, 1, 8, 6]"));
}

TEST(CommandFlags, FlagsOverrideTheRecipe) {
  // --set takes one assignment, so the recipe may follow it.
  const Result r = run({"train",
                        "--set",
                        "optim.momentum=0.8",
                        "fashion-mlp",
                        "--epochs",
                        "3",
                        "--batch",
                        "64",
                        "--lr",
                        "0.2",
                        "--threads",
                        "2",
                        "--seed",
                        "9",
                        "--precision",
                        "bf16",
                        "--limit-train",
                        "100",
                        "--limit-test",
                        "50",
                        "--out",
                        "/tmp/somewhere",
                        "--set",
                        "model.hidden=[8]",
                        "--print-recipe"});
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* line :
       {"momentum = 0.8  #", "epochs = 3  #", "batch = 64  #", "lr = 0.2  #", "threads = 2  #", "seed = 9  #", "precision = \"bf16\"  #",
        "limit_train = 100  #", "limit_test = 50  #", "out = \"/tmp/somewhere\"  #", "hidden = [8]  #"})
    EXPECT_THAT(r.out, HasSubstr(line));
  // The flags win over --set for the same key.
  EXPECT_THAT(run({"train", "fashion-mlp", "--set", "train.epochs=7", "--epochs", "2", "--print-recipe"}).out,
              HasSubstr("epochs = 2  #"));
}

TEST(CommandErrors, OneLineOnStderrAndStatusOne) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"train", "no-such-recipe"}, "unknown recipe 'no-such-recipe'; built-in recipes: "},
      {{"train"}, "give a RECIPE"},
      {{"train", "fashion-mlp", "--set", "optim.momentun=0.9"}, "unknown key 'optim.momentun'"},
      {{"train", "fashion-mlp", "--batch", "0"}, "key 'train.batch' must be >= 1, got 0"},
      {{"train", "fashion-mlp", "--epochs", "x"}, "--epochs"},
      {{"train", "fashion-mlp", "--set", "data.dir=/nonexistent/fmnist"}, "/nonexistent/fmnist"},
      {{"eval", "/nonexistent/run"}, "/nonexistent/run: no such run directory"},
      {{"eval", "/tmp"}, "/tmp: not a run directory"},
      {{"frobnicate"}, "frobnicate"},
      {{}, "subcommand"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c.args));
    const Result r = run(c.args);
    EXPECT_EQ(r.status, 1);
    EXPECT_THAT(r.err, ::testing::StartsWith("dendrite: error: "));
    EXPECT_THAT(r.err, HasSubstr(c.message));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
  }
}

TEST(CommandErrors, UnknownKeyInARecipeFileNamesTheFile) {
  files::TempDir dir;
  files::write_text(dir / "typo.toml", "[optim]\nlearning_rate = 0.1\n");
  const Result r = run({"train", (dir / "typo.toml").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err,
              HasSubstr("recipe " + (dir / "typo.toml").string() + ": unknown key 'optim.learning_rate' (line 2)"));
  EXPECT_THAT(r.err, HasSubstr("valid keys in [optim]: optim.kind, optim.lr"));
}

TEST(CommandHelp, HelpEverywhereGoesToStdoutWithStatusZero) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--help"}, {"train", "--help"}, {"eval", "--help"}, {"predict", "--help"}, {"recipes", "--help"}}) {
    const Result r = run(args);
    EXPECT_EQ(r.status, 0) << args[0];
    EXPECT_THAT(r.out, HasSubstr("Usage"));
    EXPECT_TRUE(r.err.empty()) << r.err;
  }
  EXPECT_THAT(run({"train", "--help"}).out, HasSubstr("--limit-train"));
}

TEST(CommandRecipes, ListsBuiltInRecipesWithDescriptions) {
  const Result r = run({"recipes"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::ContainsRegex("fashion-cnn +small convnet"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("fashion-mlp +784-512-512-10 MLP"));
}

}  // namespace
}  // namespace dendrite::cli
