// ParameterServer: one shard of a sharded parameter server (Downpour SGD, Dean et al. 2012). The
// shard holds its slice of the parameters (ps_slicer.h) and runs the update rule on it, answering
// workers' messages (ps_transport.h) until every worker has said goodbye:
//
//   push(g, version v)  a gradient computed on version v of this shard. The mode decides:
//                       async/ssp apply it at once; sync sums one round's gradients and applies
//                       their mean when (workers - backup) have arrived, dropping later ones.
//                       Its staleness (updates applied since v) goes to the histogram.
//   pull                answered with the shard's values when the mode allows: async at once; sync
//                       once the round the worker waits for is applied; ssp when the slowest
//                       unfinished worker is at most `staleness` pushes behind the asker.
//   done                the worker has finished.
//   snapshot(step)      rank 0 is about to checkpoint `step`: once the mode allows (as a pull
//                       from rank 0 would be answered, so that a sync round rank 0 pushed to is
//                       applied first) the shard saves its state (ps_snapshot.h) and answers.
//
// The loop polls with a growing sleep (poll.h): an idle shard costs almost no CPU. A shard that
// hears nothing for the communicator's timeout reports which workers it still waits for.
//
// Warm start (config.warm_start = K): worker 0 trains alone first. In sync the first K rounds
// are worker 0's alone; in ssp a worker other than 0 does not hold the others back until the
// shard has heard from it, and it joins at worker 0's clock (its messages carry that offset).
// Both follow from the messages themselves (each sender's arrive in order), not from a signal
// that could overtake them.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "dendrite/dist/options.h"
#include "dendrite/dist/phase_profile.h"
#include "dendrite/dist/ps_slicer.h"
#include "dendrite/dist/ps_transport.h"
#include "dendrite/dist/strategy.h"

namespace dendrite::dist {

// Part 2 of the policy: the update rule, an optimiser built over the shard's tensors.
using OptimizerFactory = std::function<std::unique_ptr<optim::Optimizer>(nn::NamedTensors shard_params)>;
// Adagrad or SGD (options.ps_optim) with learning rate `lr`.
OptimizerFactory default_update_rule(const Options& options, double lr);

struct ServerConfig {
  Mode mode = Mode::ps_async;
  int workers = 1;
  int staleness = 2;  // ssp
  int backup = 0;     // sync
  bool staleness_lr = false;
  // A push's lr divided by this scales the rule's own lr (so a worker's schedule reaches the
  // shards); 0: pushes' lr are ignored.
  double reference_lr = 0.0;
  int warm_start = 0;  // worker 0's steps alone (sync: rounds; ssp: see above); 0 when resumed
  int shard_index = 0;                   // which shard this is (names its snapshot files)
  std::filesystem::path snapshot_dir{};  // where snapshots go; empty: snapshots are not saved
};

class ParameterServer {
 public:
  // `params`: the whole model's parameters (their current values initialise the shard).
  ParameterServer(std::shared_ptr<Communicator> comm, ServerConfig config, Shard shard, const nn::NamedTensors& params,
                  const OptimizerFactory& update_rule);
  // Serves until every worker is done (see above).
  void serve();
  // Restores the state saved for trainer step `step` (before serve(); throws naming the file when
  // it is missing or of another model).
  void restore(int64_t step);
  // This shard's account (updates, dropped gradients, staleness histogram, communication).
  RankStats stats() const;

 private:
  void on_push(const PsMessage& m);
  void apply(std::span<const float> grad, double lr);
  bool can_answer(const PsMessage& pull) const;
  void answer_pending();
  void try_finish_round();
  void snapshot(const PsMessage& request);
  std::vector<int64_t> kept_steps_;  // snapshots on disk (the two newest)

  std::shared_ptr<Communicator> comm_;
  ServerConfig config_;
  Shard shard_;
  nn::NamedTensors tensors_;  // one 1-D tensor per piece
  std::unique_ptr<optim::Optimizer> optimizer_;
  double base_lr_ = 0.0;
  int64_t version_ = 0;          // updates applied
  std::vector<int64_t> clocks_;  // pushes received per worker (ssp: from worker 0's clock when it joined)
  std::vector<bool> done_;
  std::vector<bool> heard_;  // any message from the worker yet
  std::vector<PsMessage> pending_pulls_;
  std::vector<float> round_sum_;  // sync
  int round_count_ = 0;
  double round_lr_ = 0.0;
  RankStats stats_;
  double serve_seconds_ = 0.0;
  PhaseProfile profile_{{"receive", "pushes", "answers", "idle"}};  // DENDRITE_DIST_PROFILE=1
};

}  // namespace dendrite::dist
