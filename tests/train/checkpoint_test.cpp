// Checkpoints: a save/load round trip restores weights, buffers, optimiser state and loop state
// into the existing handles; loading into another architecture names the first parameter that
// differs and changes nothing; the directory is replaced atomically, so a crash mid-save leaves the
// previous checkpoint readable.
#include "dendrite/train/checkpoint.h"

#include <gtest/gtest.h>

#include <fstream>

#include "dendrite/dendrite.h"
#include "dendrite/nn/nn.h"
#include "dendrite/optim/optim.h"
#include "dendrite/train/safetensors.h"
#include "support/corrupt.h"
#include "train_test_util.h"

namespace dendrite::train {
namespace {

using testing::bytes_of;
using testing::error_of;
using testing::ScratchDir;

// fc1, fc2 and a buffer: enough to name parameters and buffers the way real models do.
class TwoLayer : public nn::Module {
 public:
  TwoLayer(int64_t in, int64_t hidden, int64_t fc2_in, int64_t out, bool third = false) {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(in, hidden));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(fc2_in, out));
    if (third) register_module("fc3", std::make_shared<nn::Linear>(out, out));
    seen = register_buffer("seen", zeros({1}, DType::i64));
  }
  Tensor forward(const Tensor& x) override { return (*fc2)(relu((*fc1)(x))); }
  std::string name() const override { return "TwoLayer"; }

  std::shared_ptr<nn::Linear> fc1, fc2;
  Tensor seen;
};

// A few SGD-with-momentum steps, so that weights and momentum buffers hold non-trivial values.
void train_a_little(TwoLayer& model, optim::Optimizer& opt) {
  Generator gen(3);
  for (int i = 0; i < 3; ++i) {
    Tensor x = randn({5, 4}, DType::f32, gen);
    Tensor y = randint(0, 3, {5}, DType::i64, gen);
    opt.zero_grad();
    cross_entropy(model(x), y).backward();
    opt.step();
  }
  autograd::NoGradGuard no_grad;
  fill_(model.seen, 7);
}

TEST(Checkpoint, RoundTripRestoresEverythingInPlace) {
  ScratchDir dir;
  manual_seed(1);
  TwoLayer a(4, 6, 6, 3);
  optim::SGD opt_a(a.named_parameters(), {.lr = 0.1, .momentum = 0.9});
  train_a_little(a, opt_a);
  TrainerState state{.step = 3,
                     .epoch = 1,
                     .batch = 2,
                     .generators = {{"default", 0xfeedfacecafebeefULL}},
                     .best_metric = 0.5,
                     .best_epoch = 1,
                     .epoch_loss_sum = 1.25,
                     .epoch_correct = 4,
                     .epoch_samples = 10,
                     .train_seconds = 2.5};
  save_checkpoint(dir / "last", a, &opt_a, state);

  manual_seed(2);
  TwoLayer b(4, 6, 6, 3);
  optim::SGD opt_b(b.named_parameters(), {.lr = 0.5, .momentum = 0.9});
  const TensorImpl* weight_impl = b.fc1->weight.impl_ptr().get();
  TrainerState loaded = load_checkpoint(dir / "last", b, &opt_b);

  EXPECT_EQ(bytes_of(b.named_parameters()), bytes_of(a.named_parameters()));
  EXPECT_EQ(bytes_of(b.named_buffers()), bytes_of(a.named_buffers()));
  EXPECT_EQ(b.fc1->weight.impl_ptr().get(), weight_impl) << "loaded into the existing handle";
  EXPECT_EQ(bytes_of(opt_b.state()), bytes_of(opt_a.state()));
  EXPECT_EQ(opt_b.step_count(), 3);
  EXPECT_EQ(opt_b.lr(), 0.1);
  EXPECT_EQ(loaded.step, 3);
  EXPECT_EQ(loaded.epoch, 1);
  EXPECT_EQ(loaded.batch, 2);
  EXPECT_EQ(loaded.generators, state.generators);
  EXPECT_EQ(loaded.best_metric, 0.5);
  EXPECT_EQ(loaded.best_epoch, 1);
  EXPECT_EQ(loaded.epoch_loss_sum, 1.25);
  EXPECT_EQ(loaded.epoch_correct, 4);
  EXPECT_EQ(loaded.epoch_samples, 10);
  EXPECT_EQ(loaded.train_seconds, 2.5);
}

TEST(Checkpoint, ModelFileIsPlainSafetensorsWithParametersThenBuffers) {
  ScratchDir dir;
  TwoLayer model(4, 6, 6, 3);
  save_checkpoint(dir / "ck", model, nullptr, {});
  Safetensors file = load_safetensors(dir / "ck" / "model.safetensors");
  std::vector<std::string> names;
  for (const auto& [name, t] : file.tensors) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "seen"}));
  EXPECT_EQ(*file.find_metadata("format"), "pt");
  EXPECT_FALSE(std::filesystem::exists(dir / "ck" / "optimizer.safetensors"));
}

TEST(Checkpoint, UnsetBestMetricRoundTrips) {
  ScratchDir dir;
  TwoLayer model(4, 6, 6, 3);
  save_checkpoint(dir / "ck", model, nullptr, {});
  TrainerState loaded = read_trainer_state(dir / "ck");
  EXPECT_TRUE(std::isinf(loaded.best_metric) && loaded.best_metric < 0);
}

TEST(Checkpoint, AdamStateRoundTrips) {
  ScratchDir dir;
  TwoLayer a(4, 6, 6, 3);
  optim::Adam opt_a(a.named_parameters(), {.lr = 1e-3});
  train_a_little(a, opt_a);
  save_checkpoint(dir / "ck", a, &opt_a, {});
  TwoLayer b(4, 6, 6, 3);
  optim::Adam opt_b(b.named_parameters(), {.lr = 1e-3});
  load_checkpoint(dir / "ck", b, &opt_b);
  EXPECT_EQ(bytes_of(opt_b.state()), bytes_of(opt_a.state()));
}

TEST(CheckpointErrors, OtherArchitectureNamesTheFirstDifferingParameter) {
  ScratchDir dir;
  TwoLayer saved(4, 8, 512, 10);
  save_checkpoint(dir / "ck", saved, nullptr, {});
  TwoLayer other(4, 8, 256, 10);
  std::vector<std::string> before = bytes_of(other.named_parameters());
  std::string message = error_of([&] { load_checkpoint(dir / "ck", other, nullptr); });
  EXPECT_EQ(message, fmt::format("checkpoint {}: parameter 'fc2.weight' has shape [10, 512] in the file, [10, 256] "
                                 "in the model",
                                 (dir / "ck" / "model.safetensors").string()));
  EXPECT_EQ(bytes_of(other.named_parameters()), before) << "a failed load changes nothing";
}

TEST(CheckpointErrors, ParameterMissingFromTheFile) {
  ScratchDir dir;
  TwoLayer saved(4, 8, 8, 3);
  save_checkpoint(dir / "ck", saved, nullptr, {});
  TwoLayer bigger(4, 8, 8, 3, /*third=*/true);
  EXPECT_CONTAINS(error_of([&] { load_checkpoint(dir / "ck", bigger, nullptr); }),
                  "model.safetensors: parameter 'fc3.weight' of the model is not in the file (the file has "
                  "fc1.weight, fc1.bias, fc2.weight, fc2.bias, seen)");
}

TEST(CheckpointErrors, TensorInTheFileThatTheModelLacks) {
  ScratchDir dir;
  TwoLayer saved(4, 8, 8, 3, /*third=*/true);
  save_checkpoint(dir / "ck", saved, nullptr, {});
  TwoLayer smaller(4, 8, 8, 3);
  EXPECT_CONTAINS(error_of([&] { load_checkpoint(dir / "ck", smaller, nullptr); }),
                  "model.safetensors: the file has tensor 'fc3.weight' (f32 [3, 3]) that the model does not");
}

TEST(CheckpointErrors, BufferShapeDiffers) {
  ScratchDir dir;
  TwoLayer saved(4, 8, 8, 3);
  save_checkpoint(dir / "ck", saved, nullptr, {});
  nn::NamedTensors weights = saved.named_parameters();
  weights.emplace_back("seen", zeros({2}, DType::i64));
  save_safetensors(dir / "ck" / "model.safetensors", weights);
  TwoLayer model(4, 8, 8, 3);
  EXPECT_CONTAINS(error_of([&] { load_checkpoint(dir / "ck", model, nullptr); }),
                  "model.safetensors: buffer 'seen' has shape [2] in the file, [1] in the model");
}

TEST(CheckpointErrors, OptimiserOfAnotherKind) {
  ScratchDir dir;
  TwoLayer model(4, 8, 8, 3);
  optim::SGD sgd(model.named_parameters(), {.lr = 0.1, .momentum = 0.9});
  save_checkpoint(dir / "ck", model, &sgd, {});
  optim::Adam adam(model.named_parameters(), {});
  EXPECT_EQ(error_of([&] { load_checkpoint(dir / "ck", model, &adam); }),
            fmt::format("checkpoint {}: the state was saved by SGD, the optimiser is Adam",
                        (dir / "ck" / "optimizer.safetensors").string()));
}

TEST(CheckpointErrors, MissingDirectoryAndCorruptTrainerState) {
  ScratchDir dir;
  TwoLayer model(4, 8, 8, 3);
  EXPECT_EQ(error_of([&] { load_checkpoint(dir / "nope", model, nullptr); }),
            fmt::format("checkpoint {}: no such directory", (dir / "nope").string()));
  save_checkpoint(dir / "ck", model, nullptr, {});
  std::ofstream(dir / "ck" / "trainer.json") << "{\"format\": \"dendrite-checkpoint-1\", \"step\": -";
  EXPECT_CONTAINS(error_of([&] { load_checkpoint(dir / "ck", model, nullptr); }),
                  (dir / "ck" / "trainer.json").string() + ": not valid JSON");
  std::ofstream(dir / "ck" / "trainer.json") << R"({"format": "dendrite-checkpoint-1", "step": "3"})";
  EXPECT_EQ(
      error_of([&] { load_checkpoint(dir / "ck", model, nullptr); }),
      fmt::format("checkpoint {}: key 'step' is missing or not an integer", (dir / "ck" / "trainer.json").string()));
}

// Damaged trainer.json and model files: loading either succeeds or is an Error naming the file,
// never a crash (the sanitizer build runs this too). The model's own shape checks stop a damaged
// model file that still parses.
TEST(CheckpointErrors, CorruptedFilesFailWithAnErrorOrLoad) {
  ScratchDir dir;
  TwoLayer model(4, 8, 8, 3);
  optim::SGD opt(model.named_parameters(), {.lr = 0.1, .momentum = 0.9});
  train_a_little(model, opt);
  save_checkpoint(dir / "ck", model, &opt, {.step = 12, .epoch = 2, .batch = 3});
  for (const char* file : {"trainer.json", "model.safetensors", "optimizer.safetensors"}) {
    const auto path = dir / "ck" / file;
    std::ifstream in(path, std::ios::binary);
    const std::string valid((std::istreambuf_iterator<char>(in)), {});
    in.close();
    const auto copies = test_support::corruptions(valid, 6, 300);
    const int rejected = test_support::expect_only_errors(copies, [&](const std::string& bytes) {
      std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
      try {
        TwoLayer fresh(4, 8, 8, 3);
        optim::SGD fresh_opt(fresh.named_parameters(), {.lr = 0.1, .momentum = 0.9});
        load_checkpoint(dir / "ck", fresh, &fresh_opt);
      } catch (const Error& e) {
        EXPECT_CONTAINS(e.what(), file);
        throw;
      }
    });
    EXPECT_GT(rejected, 100) << file;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << valid;
  }
}

TEST(CheckpointAtomicity, SaveReplacesTheDirectoryAndLeavesNoTemporary) {
  ScratchDir dir;
  TwoLayer model(4, 8, 8, 3);
  save_checkpoint(dir / "last", model, nullptr, {.step = 1});
  save_checkpoint(dir / "last", model, nullptr, {.step = 2});
  EXPECT_EQ(read_trainer_state(dir / "last").step, 2);
  EXPECT_FALSE(std::filesystem::exists(dir / "last.tmp"));
  EXPECT_FALSE(std::filesystem::exists(dir / "last.old"));
}

TEST(CheckpointAtomicity, AnInterruptedSaveLeavesThePreviousCheckpointIntact) {
  // A save killed part-way leaves its half-written staging directory behind; the checkpoint itself
  // is still the previous one, whole, and the next save proceeds.
  ScratchDir dir;
  TwoLayer model(4, 8, 8, 3);
  save_checkpoint(dir / "last", model, nullptr, {.step = 5});
  std::filesystem::create_directories(dir / "last.tmp");
  std::ofstream(dir / "last.tmp" / "model.safetensors") << "torn";
  TwoLayer other(4, 8, 8, 3);
  EXPECT_EQ(load_checkpoint(dir / "last", other, nullptr).step, 5);
  EXPECT_EQ(bytes_of(other.named_parameters()), bytes_of(model.named_parameters()));
  save_checkpoint(dir / "last", model, nullptr, {.step = 6});
  EXPECT_EQ(read_trainer_state(dir / "last").step, 6);
}

TEST(CheckpointAtomicity, RecoversFromACrashBetweenTheTwoRenamesOfTheFallback) {
  // Where the file system cannot swap directories, the old checkpoint is moved aside to "<dir>.old"
  // first; a crash right then leaves only that, and loading finds it.
  ScratchDir dir;
  TwoLayer model(4, 8, 8, 3);
  save_checkpoint(dir / "last", model, nullptr, {.step = 9});
  std::filesystem::rename(dir / "last", dir / "last.old");
  TwoLayer other(4, 8, 8, 3);
  EXPECT_EQ(load_checkpoint(dir / "last", other, nullptr).step, 9);
}

TEST(Checkpoint, LoadWeightsAlone) {
  ScratchDir dir;
  TwoLayer a(4, 8, 8, 3);
  save_checkpoint(dir / "ck", a, nullptr, {});
  TwoLayer b(4, 8, 8, 3);
  load_weights(dir / "ck" / "model.safetensors", b);
  EXPECT_EQ(bytes_of(b.named_parameters()), bytes_of(a.named_parameters()));
}

}  // namespace
}  // namespace dendrite::train
