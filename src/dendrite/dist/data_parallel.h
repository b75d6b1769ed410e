// DataParallel: synchronous data parallelism (--dist allreduce). Every rank holds a replica,
// reads its own shard of each batch (data/sharded_dataset.h), and after every backward the
// gradients are the mean over ranks (GradientReducer, overlapped with backward), so every rank
// applies the same update and the replicas stay equal. Buffers (batch norm's running statistics)
// are not reduced each step: each rank updates its own from its shard, and sync_state averages
// them before every evaluation and checkpoint. With ReducerOptions::deterministic the sums are in
// rank order on every rank, so two runs of the same job end with the same bits.
//
//   auto comm = dist::init(argc, argv);
//   dist::DataParallel dp(comm, net);           // the reducer's hooks are now on net's parameters
//   dp.start(net);                              // rank 0's weights everywhere
//   ... loss.backward(); dp.after_backward(); opt.step();
//
// Thread-safety: the training thread only.
#pragma once

#include <memory>

#include "dendrite/dist/gradient_reducer.h"
#include "dendrite/dist/strategy.h"
#include "dendrite/dist/test_faults.h"

namespace dendrite::dist {

class DataParallel : public Strategy {
 public:
  // `faults`: a straggler or a crash injected by tests and benchmarks (test_faults.h); none by default.
  DataParallel(std::shared_ptr<Communicator> comm, const nn::Module& model, ReducerOptions options = {},
               TestFaults faults = {});

  const char* mode() const override { return "allreduce"; }
  Communicator& comm() const override { return *comm_; }
  int workers() const override { return comm_->size(); }

  // Broadcasts every parameter and buffer from rank 0 (checked: a rank whose model differs gets
  // an error naming the parameter and both shapes).
  void start(nn::Module& model) override;
  void before_forward() override;
  void after_backward() override { reducer_.finish(); }
  // Replaces every floating-point buffer (batch norm's running mean and variance) by its mean
  // over the ranks, so that rank 0 evaluates and checkpoints statistics of all the data, not of
  // its shard. Integer buffers (batch counters) are equal on every rank and left alone.
  void sync_state(nn::Module& model) override;
  std::vector<RankStats> finish(int64_t samples, double train_seconds) override;

 private:
  std::shared_ptr<Communicator> comm_;
  GradientReducer reducer_;
  bool deterministic_ = false;
  TestFaults faults_;
  int64_t steps_ = 0;  // begun
};

// Copies rank 0's parameters and buffers to every rank, naming the tensor in any mismatch error.
void broadcast_model(Communicator& comm, nn::Module& model);

// Every floating-point buffer of `model` becomes its mean over the ranks (in rank order when
// `deterministic`, ordered_reduce.h). Collective.
void average_buffers(Communicator& comm, nn::Module& model, bool deterministic);

}  // namespace dendrite::dist
