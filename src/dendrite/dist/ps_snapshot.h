// Parameter-server snapshots: one shard's whole state (its parameter slices, its update rule's
// state, its version) in one file per checkpoint step, so that `--resume` restarts a shard where
// the run's last/ checkpoint stands and not from rank 0's replica with a fresh Adagrad.
//
//   <run>/ps/shard-<k>-step-<N>.bin
//
// The file is written to a temporary name and renamed, so a crash leaves either the whole file or
// none. A shard keeps its two newest snapshots: rank 0 asks the shards to snapshot before it
// writes last/, so a crash between the two leaves last/ at the step before, whose file is kept.
// The format is private to this version of Dendrite (magic, counts, then name/dtype/shape/bytes
// records); it is not meant to be read by other programs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/nn/module.h"

namespace dendrite::dist {

struct ShardSnapshot {
  int64_t step = 0;     // the trainer step of rank 0 the snapshot belongs to
  int64_t version = 0;  // updates the shard had applied
  nn::NamedTensors params;
  nn::NamedTensors optimizer_state;
  std::vector<std::pair<std::string, double>> optimizer_scalars;
};

std::filesystem::path snapshot_path(const std::filesystem::path& dir, int shard, int64_t step);

// Writes atomically (temporary file, then rename).
void save_snapshot(const std::filesystem::path& file, const ShardSnapshot& snapshot);
// Throws naming the file when it is missing, truncated or not a snapshot.
ShardSnapshot load_snapshot(const std::filesystem::path& file);

// Removes shard `shard`'s snapshots in `dir` other than those of the steps in `keep`.
void prune_snapshots(const std::filesystem::path& dir, int shard, const std::vector<int64_t>& keep);

}  // namespace dendrite::dist
