// ParameterServerWorker: the worker side of the sharded parameter server (Downpour SGD). The
// worker's replica never applies an update itself: every n_push steps it sends the mean of its
// gradients since the last push to the shards (non-blocking, so the next step's compute overlaps
// the send), and every n_fetch steps it fetches the shards' current values (ps-sync: every step,
// waiting for the round its push took part in; ps-ssp: the shards hold the answer while the
// slowest worker is more than `staleness` pushes behind).
//
// Warm start (options.warm_start = K, every parameter-server mode): worker 0 trains alone for its
// first K steps while the others wait in start(); it then tells them to join (with its clock and
// the version its pushes reached), and they fetch the shards' parameters before their first step.
// ps-sync: the first K rounds are worker 0's alone; ps-ssp: the others join at worker 0's clock.
// A resumed run skips it.
//
// Checkpoints: before rank 0 writes one, before_checkpoint() has every shard save its state for
// that step (ps_snapshot.h) and waits for them; a resumed run's start() has the shards restore
// the snapshots of the step resumed from, and every worker then fetches them.
//
// The server ranks run ParameterServer::serve() (see run_parameter_server below) instead of a
// training loop.
//
// Thread-safety: the training thread only.
#pragma once

#include <memory>

#include "dendrite/dist/options.h"
#include "dendrite/dist/parameter_server.h"
#include "dendrite/dist/phase_profile.h"
#include "dendrite/dist/strategy.h"
#include "dendrite/dist/test_faults.h"

namespace dendrite::dist {

class ParameterServerWorker : public Strategy {
 public:
  // `options`: mode, servers, n_fetch, n_push (validated against comm's size).
  ParameterServerWorker(std::shared_ptr<Communicator> comm, const nn::Module& model, Options options);

  const char* mode() const override { return name(options_.mode); }
  Communicator& comm() const override { return *comm_; }
  int workers() const override { return comm_->size() - options_.servers; }

  void resume_at(int64_t step) override { resume_step_ = step; }
  void start(nn::Module& model) override;
  void before_checkpoint(int64_t step) override;
  void before_forward() override;
  void after_backward() override;
  void step(optim::Optimizer& optimizer) override;
  std::vector<RankStats> finish(int64_t samples, double train_seconds) override;

  int64_t fetches() const { return fetches_; }
  int64_t pushes() const { return pushes_; }
  // The version of server `s`'s shard last fetched (updates it had applied).
  int64_t version(size_t s) const { return versions_.at(s); }

 private:
  void fetch();
  void push();
  void release_warm_start();  // worker 0: tell the others to join
  // What the shards count this worker's pushes from (ssp): pushes_ plus, after a warm start,
  // the clock worker 0 had when this one joined.
  int64_t clock() const { return pushes_ + clock_offset_; }

  std::shared_ptr<Communicator> comm_;
  Options options_;
  nn::NamedTensors params_;
  std::vector<Shard> shards_;
  std::vector<float> accumulated_;     // flat, all parameters, since the last push
  std::vector<int64_t> param_offset_;  // of each parameter in the flat vector
  std::vector<int64_t> versions_;      // per server: the version last fetched
  std::vector<std::vector<std::byte>> send_buffers_;
  std::vector<Request> sends_;
  int64_t steps_ = 0, since_push_ = 0, fetches_ = 0, pushes_ = 0, clock_offset_ = 0;
  double lr_ = 0.0;
  int64_t resume_step_ = -1;
  bool warm_released_ = false;
  TestFaults faults_;
  PhaseProfile profile_{{"fetch", "compute", "push"}};  // DENDRITE_DIST_PROFILE=1
  PhaseProfile::Clock::time_point computing_since_{};
};

// What a server rank does instead of training: take rank 0's initial parameters (the collective
// that matches the workers' start()), serve its shard until the workers finish, then gather the
// run's numbers (matching the workers' finish()). `model` only provides shapes and receives the
// initial values. `snapshot_dir`: where the shard saves and finds its snapshots (the run's ps/).
std::vector<RankStats> run_parameter_server(std::shared_ptr<Communicator> comm, nn::Module& model,
                                            const Options& options, const OptimizerFactory& update_rule,
                                            double reference_lr, const std::filesystem::path& snapshot_dir = {});

}  // namespace dendrite::dist
