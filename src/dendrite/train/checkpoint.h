// Training checkpoints: everything a run needs to continue bit-exactly, in a directory.
//
//   <dir>/model.safetensors      named_parameters() then named_buffers(), by their dotted names
//   <dir>/optimizer.safetensors  Optimizer::state() tensors; step and lr in __metadata__
//   <dir>/trainer.json           TrainerState: step, epoch, position in the epoch, RNG states, ...
//
// The directory is replaced as a whole: the files go to "<dir>.tmp/", which is then swapped with
// <dir> in one atomic rename, so Ctrl-C or a crash at any moment leaves either the previous
// checkpoint or the new one, never a mix of the two.
//
// model.safetensors is a plain safetensors file that PyTorch (safetensors.torch.load_file) reads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/nn/module.h"
#include "dendrite/optim/optimizer.h"

namespace dendrite::train {

// Where the training loop stands, saved beside the weights.
struct TrainerState {
  int64_t step = 0;   // optimiser steps taken
  int64_t epoch = 0;  // the epoch in progress (0-based)
  int64_t batch = 0;  // batches of `epoch` already trained; 0 at an epoch boundary
  // Random generators by name ("default" is default_generator()), state() values.
  std::vector<std::pair<std::string, uint64_t>> generators{};
  double best_metric = -std::numeric_limits<double>::infinity();  // best test accuracy so far
  int64_t best_epoch = -1;
  // The running sums of the epoch in progress, so a mid-epoch resume reports the same epoch mean.
  double epoch_loss_sum = 0.0;
  int64_t epoch_correct = 0;
  int64_t epoch_samples = 0;
  double train_seconds = 0.0;  // time spent training before this checkpoint (wall clock)
};

// Writes a checkpoint of `model`, `optimizer` (may be null) and `state` into `dir`, replacing it
// atomically.
void save_checkpoint(const std::filesystem::path& dir, const nn::Module& model, const optim::Optimizer* optimizer,
                     const TrainerState& state);

// Restores a checkpoint into `model` and `optimizer` (may be null) in place: the model's own
// parameter and buffer handles receive the values. Everything is checked before anything is
// changed; a model of another architecture throws naming the first parameter whose name or shape
// differs.
TrainerState load_checkpoint(const std::filesystem::path& dir, nn::Module& model, optim::Optimizer* optimizer);

// Loads a weights file (a checkpoint's model.safetensors, or any safetensors file with the same
// names) into `model` in place, with the same checks.
void load_weights(const std::filesystem::path& file, nn::Module& model);

// The trainer.json of a checkpoint directory alone (no weights touched).
TrainerState read_trainer_state(const std::filesystem::path& dir);

}  // namespace dendrite::train
