#include "dendrite/dist/data_parallel.h"

#include "dendrite/autograd/autograd.h"

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

DataParallel::DataParallel(std::shared_ptr<Communicator> comm, const nn::Module& model, ReducerOptions options)
    : comm_(comm), reducer_(std::move(comm), model.named_parameters(), options) {}

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
