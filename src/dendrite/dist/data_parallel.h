// DataParallel: synchronous data parallelism (--dist allreduce). Every rank holds a replica,
// reads its own shard of each batch (data/sharded_dataset.h), and after every backward the
// gradients are the mean over ranks (GradientReducer, overlapped with backward), so every rank
// applies the same update and the replicas stay equal.
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

namespace dendrite::dist {

class DataParallel : public Strategy {
 public:
  DataParallel(std::shared_ptr<Communicator> comm, const nn::Module& model, ReducerOptions options = {});

  const char* mode() const override { return "allreduce"; }
  Communicator& comm() const override { return *comm_; }
  int workers() const override { return comm_->size(); }

  // Broadcasts every parameter and buffer from rank 0 (checked: a rank whose model differs gets
  // an error naming the parameter and both shapes).
  void start(nn::Module& model) override;
  void after_backward() override { reducer_.finish(); }
  std::vector<RankStats> finish(int64_t samples, double train_seconds) override;

 private:
  std::shared_ptr<Communicator> comm_;
  GradientReducer reducer_;
};

// Copies rank 0's parameters and buffers to every rank, naming the tensor in any mismatch error.
void broadcast_model(Communicator& comm, nn::Module& model);

}  // namespace dendrite::dist
