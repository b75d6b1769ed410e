// GradientReducer: averages gradients across ranks while backward still runs (flashlight's
// distributed reducer; PyTorch DDP's bucketing, Li et al. 2020).
//
//   parameters, in reverse order (the order backward finishes them), are packed into buckets of
//   about bucket_bytes, one dtype each. A gradient-ready hook on every parameter (autograd leaf
//   hooks) copies its gradient, divided by the rank count, into its bucket's flat buffer and makes
//   the parameter's .grad() a view of that buffer; when a bucket is full it starts a non-blocking
//   all-reduce (sum) of the buffer. Buckets start in index order on every rank, as MPI requires.
//   finish() starts what is left (a parameter that got no gradient contributes zeros), waits for
//   every bucket: each .grad() then holds the mean over ranks.
//
// deterministic (--deterministic): a bucket is all-gathered instead, and every rank adds the
// ranks' contributions itself in rank order (ordered_reduce.h), so the mean is the same bits on
// every rank and in every run, whatever algorithm MPI picks; it costs size() x the bucket's bytes
// received per rank instead of about 2x.
//
// One backward per finish(): a second gradient for a parameter before finish() is an error.
// The layout (names, shapes, dtypes) is checked across ranks once, in the constructor.
//
// Thread-safety: the training thread only. The hooks hold a weak reference: a parameter that
// outlives its reducer is left alone by them.
#pragma once

#include <memory>

#include "dendrite/dist/communicator.h"
#include "dendrite/nn/module.h"

namespace dendrite::dist {

struct ReducerOptions {
  int64_t bucket_bytes = int64_t{1} << 20;
  bool deterministic = false;  // sum in rank order on every rank (see above)
};

class GradientReducer {
 public:
  // Checks that every rank passes the same parameters (collective); registers the hooks.
  GradientReducer(std::shared_ptr<Communicator> comm, nn::NamedTensors params, ReducerOptions options = {});
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Waits for every bucket (see above). Must follow every backward, on every rank.
  void finish();
  int64_t buckets() const;

  struct State;  // shared with the hooks (gradient_reducer.cpp)

 private:
  std::shared_ptr<State> state_;
};

}  // namespace dendrite::dist
