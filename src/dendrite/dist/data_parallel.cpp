#include "dendrite/dist/data_parallel.h"

#include "dendrite/autograd/autograd.h"
#include "dendrite/dist/ordered_reduce.h"

namespace dendrite::dist {

void broadcast_model(Communicator& comm, nn::Module& model) {
  autograd::NoGradGuard no_grad;
  auto send = [&](const nn::NamedTensors& tensors, const char* kind) {
    for (const auto& [name, t] : tensors) {
      DENDRITE_CHECK(t.is_contiguous(), "broadcast_model: {} '{}' is not contiguous", kind, name);
      try {
        comm.broadcast(t, 0);
      } catch (const DeadlineExceeded&) {
        throw;
      } catch (const Error& e) {
        fail("{} '{}': {}", kind, name, e.what());
      }
    }
  };
  send(model.named_parameters(), "parameter");
  send(model.named_buffers(), "buffer");
}

void average_buffers(Communicator& comm, nn::Module& model, bool deterministic) {
  autograd::NoGradGuard no_grad;
  for (const auto& [name, t] : model.named_buffers()) {
    if (t.dtype() != DType::f32 && t.dtype() != DType::f64) continue;
    DENDRITE_CHECK(t.is_contiguous(), "average_buffers: buffer '{}' is not contiguous", name);
    if (deterministic)
      all_reduce_in_rank_order(comm, t, ReduceOp::mean);
    else
      comm.all_reduce(t, ReduceOp::mean);
  }
}

DataParallel::DataParallel(std::shared_ptr<Communicator> comm, const nn::Module& model, ReducerOptions options,
                           TestFaults faults)
    : comm_(comm),
      reducer_(std::move(comm), model.named_parameters(), options),
      deterministic_(options.deterministic),
      faults_(faults) {}

void DataParallel::before_forward() {
  // A straggler sleeps here, before its next gradients exist, rather than after its step: the
  // others then wait for it inside the all-reduce, as they would for a slow machine.
  if (steps_ > 0) faults_.end(steps_);
  faults_.begin();
  ++steps_;
}

void DataParallel::sync_state(nn::Module& model) {
  if (comm_->size() > 1) average_buffers(*comm_, model, deterministic_);
}

void DataParallel::start(nn::Module& model) { broadcast_model(*comm_, model); }

std::vector<RankStats> DataParallel::finish(int64_t samples, double train_seconds) {
  RankStats mine;
  mine.samples = samples;
  mine.train_seconds = train_seconds;
  mine.comm_seconds = comm_->stats().comm_seconds;
  mine.bytes_sent = comm_->stats().bytes_sent;
  return gather_rank_stats(*comm_, mine);
}

}  // namespace dendrite::dist
