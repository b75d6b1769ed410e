// A finished (or interrupted) run directory as `dendrite eval` and `dendrite predict` read it: its
// config.toml rebuilds the model, a checkpoint (best/ or last/) fills in the weights.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "dendrite/cli/recipe.h"
#include "dendrite/nn/sequential.h"
#include "dendrite/train/checkpoint.h"

namespace dendrite::cli {

inline constexpr const char* kConfigFile = "config.toml";

// The run's resolved recipe; a directory without config.toml is an Error saying it is not a run.
Recipe read_run_recipe(const std::filesystem::path& run_dir);

struct LoadedModel {
  std::shared_ptr<nn::Sequential> model;  // in eval mode
  std::filesystem::path checkpoint;       // the directory the weights came from
  train::TrainerState state;
};

// The model of `recipe` with the weights of run_dir/<which>; "best" falls back to "last" when the
// run has no best/ (it never evaluated).
LoadedModel load_run_model(const std::filesystem::path& run_dir, const Recipe& recipe, const std::string& which);

// runs/<name>, or runs/<name>-2, -3, ... when a run is already there.
std::filesystem::path default_run_dir(const std::string& name);

}  // namespace dendrite::cli
