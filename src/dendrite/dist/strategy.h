// Strategy: what a training loop calls so that one program trains on one rank or many. The
// Trainer (train/trainer.h, TrainerOptions::strategy) calls, per step,
//
//   before_forward()    parameter server: fetch fresh parameters every n_fetch steps
//   forward, backward   data parallel: gradient buckets all-reduce while backward runs
//   after_backward()    data parallel: wait for the buckets (gradients are now the mean)
//   step(optimizer)     data parallel: optimizer.step(); parameter server: push gradients instead
//
// and start() once before the first step (replicas agree on the starting weights), sync_state()
// on every rank before rank 0 evaluates or checkpoints, finish() once after the last (a
// collective: every rank's numbers are gathered). Rank 0 is the writer: it alone writes the run
// directory, evaluates and checkpoints.
//
// Thread-safety: the training thread only.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "dendrite/dist/communicator.h"
#include "dendrite/nn/module.h"
#include "dendrite/optim/optimizer.h"

namespace dendrite::dist {

// The staleness of applied gradients: bin k counts gradients computed on parameters k updates
// old; the last bin holds everything at least that old.
inline constexpr size_t kStalenessBins = 32;
using StalenessHistogram = std::array<int64_t, kStalenessBins>;

// One rank's account of a run, gathered on every rank by gather_rank_stats().
struct RankStats {
  int rank = 0;
  bool server = false;         // a parameter-server shard (no samples of its own)
  int64_t samples = 0;         // training examples this rank computed gradients on
  double train_seconds = 0.0;  // time in training steps
  double comm_seconds = 0.0;   // time waiting on communication
  int64_t bytes_sent = 0;
  int64_t updates = 0;  // updates a server applied
  int64_t dropped = 0;  // gradients a server dropped (late backups)
  StalenessHistogram staleness{};
};

// A collective: every rank contributes `mine` and receives all, in rank order.
std::vector<RankStats> gather_rank_stats(Communicator& comm, const RankStats& mine);

class Strategy {
 public:
  virtual ~Strategy() = default;
  Strategy() = default;
  Strategy(const Strategy&) = delete;
  Strategy& operator=(const Strategy&) = delete;

  virtual const char* mode() const = 0;  // "allreduce", "ps-async", ...
  virtual Communicator& comm() const = 0;
  bool is_writer() const { return comm().rank() == 0; }
  // Ranks that train (compute gradients on data).
  virtual int workers() const = 0;

  // Before the first step of a fresh or resumed run: make every replica start from rank 0's
  // parameters and buffers. Collective.
  virtual void start(nn::Module& model) = 0;
  // Called before start() when the run resumes from a checkpoint of trainer step `step` (every
  // rank loaded rank 0's checkpoint): a parameter server restores its shards' snapshots of that
  // step and the workers fetch from them.
  virtual void resume_at(int64_t step) { (void)step; }
  // Rank 0 only, before it writes a checkpoint of trainer step `step`: a parameter server has its
  // shards save their state for that step first.
  virtual void before_checkpoint(int64_t step) { (void)step; }
  virtual void before_forward() {}
  virtual void after_backward() {}
  virtual void step(optim::Optimizer& optimizer) { optimizer.step(); }
  // Before rank 0 evaluates or checkpoints: data parallel averages the replicas' buffers (batch
  // norm's running statistics, which each rank updates from its own shard). Collective: the
  // Trainer calls it on every rank at the same steps.
  virtual void sync_state(nn::Module& model) { (void)model; }
  // After the last step: stop talking to peers and gather every rank's numbers. Collective (the
  // parameter-server shards call gather_rank_stats from their own loop).
  virtual std::vector<RankStats> finish(int64_t samples, double train_seconds) = 0;
};

}  // namespace dendrite::dist
