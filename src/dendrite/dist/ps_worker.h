// ParameterServerWorker: the worker side of the sharded parameter server (Downpour SGD). The
// worker's replica never applies an update itself: every n_push steps it sends the mean of its
// gradients since the last push to the shards (non-blocking, so the next step's compute overlaps
// the send), and every n_fetch steps it fetches the shards' current values (ps-sync: every step,
// waiting for the round its push took part in; ps-ssp: the shards hold the answer while the
// slowest worker is more than `staleness` pushes behind).
//
// The server ranks run ParameterServer::serve() (see run_parameter_server below) instead of a
// training loop.
//
// Thread-safety: the training thread only.
#pragma once

#include <memory>

#include "dendrite/dist/options.h"
#include "dendrite/dist/parameter_server.h"
#include "dendrite/dist/strategy.h"

namespace dendrite::dist {

class ParameterServerWorker : public Strategy {
 public:
  // `options`: mode, servers, n_fetch, n_push (validated against comm's size).
  ParameterServerWorker(std::shared_ptr<Communicator> comm, const nn::Module& model, Options options);

  const char* mode() const override { return name(options_.mode); }
  Communicator& comm() const override { return *comm_; }
  int workers() const override { return comm_->size() - options_.servers; }

  void start(nn::Module& model) override;
  void before_forward() override;
  void after_backward() override;
  void step(optim::Optimizer& optimizer) override;
  std::vector<RankStats> finish(int64_t samples, double train_seconds) override;

  int64_t fetches() const { return fetches_; }
  int64_t pushes() const { return pushes_; }

 private:
  void fetch();
  void push();

  std::shared_ptr<Communicator> comm_;
  Options options_;
  nn::NamedTensors params_;
  std::vector<Shard> shards_;
  std::vector<float> accumulated_;     // flat, all parameters, since the last push
  std::vector<int64_t> param_offset_;  // of each parameter in the flat vector
  std::vector<int64_t> versions_;      // per server: the version last fetched
  std::vector<std::vector<std::byte>> send_buffers_;
  std::vector<Request> sends_;
  int64_t steps_ = 0, since_push_ = 0, fetches_ = 0, pushes_ = 0;
  double lr_ = 0.0;
};

// What a server rank does instead of training: take rank 0's initial parameters (the collective
// that matches the workers' start()), serve its shard until the workers finish, then gather the
// run's numbers (matching the workers' finish()). `model` only provides shapes and receives the
// initial values.
std::vector<RankStats> run_parameter_server(std::shared_ptr<Communicator> comm, nn::Module& model,
                                            const Options& options, const OptimizerFactory& update_rule,
                                            double reference_lr);

}  // namespace dendrite::dist
