#include "dendrite/dist/ps_worker.h"

#include <cstring>

#include "dendrite/autograd/autograd.h"
#include "dendrite/dist/data_parallel.h"

namespace dendrite::dist {
namespace {

std::vector<int64_t> numels_of(const nn::NamedTensors& params) {
  std::vector<int64_t> numels;
  for (const auto& [name, p] : params) numels.push_back(p.numel());
  return numels;
}

}  // namespace

ParameterServerWorker::ParameterServerWorker(std::shared_ptr<Communicator> comm, const nn::Module& model,
                                             Options options)
    : comm_(std::move(comm)),
      options_(std::move(options)),
      params_(model.named_parameters()),
      faults_(comm_->rank(), options_) {
  validate(options_, comm_->size());
  DENDRITE_CHECK(is_parameter_server(options_.mode), "ParameterServerWorker: mode {} is not a parameter-server mode",
                 name(options_.mode));
  DENDRITE_CHECK(comm_->rank() < workers(), "ParameterServerWorker: rank {} is a server rank (workers are 0..{})",
                 comm_->rank(), workers() - 1);
  int64_t total = 0;
  for (const auto& [n, p] : params_) {
    DENDRITE_CHECK(p.dtype() == DType::f32 && p.is_contiguous(),
                   "parameter server: parameter '{}' is {}; workers push contiguous f32 parameters", n, describe(p));
    param_offset_.push_back(total);
    total += p.numel();
  }
  accumulated_.assign(static_cast<size_t>(total), 0.0f);
  shards_ = slice_by_bytes(numels_of(params_), options_.servers);
  versions_.assign(shards_.size(), 0);
  send_buffers_.resize(shards_.size());
  sends_.resize(shards_.size());
}

namespace {

// The collective that tells the shards which step a resumed run restarts from (-1: a fresh run).
int64_t share_resume_step(Communicator& comm, int64_t step) {
  Tensor t = Tensor(TensorBase::empty({1}, DType::i64));
  *t.data_ptr<int64_t>() = step;
  comm.broadcast(t, 0);
  return *t.data_ptr<int64_t>();
}

}  // namespace

void ParameterServerWorker::start(nn::Module& model) {
  broadcast_model(*comm_, model);
  if (share_resume_step(*comm_, resume_step_) >= 0) {
    warm_released_ = true;
    fetch();  // the shards' restored values, not rank 0's possibly stale replica
    return;
  }
  if (options_.warm_start > 0 && comm_->rank() != 0) {
    const PsHeader go = recv_message(*comm_, 0, PsTag::warm_go, {});
    // ps-ssp: join at worker 0's clock, so that its lead is not counted against the bound.
    clock_offset_ = go.clock;
    // ps-sync: the first round to wait for is the last of the warm start (fetch asks version + 1).
    if (options_.mode == Mode::ps_sync) std::fill(versions_.begin(), versions_.end(), go.version - 1);
    fetch();
  }
}

void ParameterServerWorker::release_warm_start() {
  warm_released_ = true;
  if (options_.warm_start == 0 || comm_->rank() != 0) return;
  // A fetch is answered after every shard has applied our pushes (messages from one sender arrive
  // in order), so the others' first fetch sees all K warm-up updates. In ps-sync our next
  // before_forward() waits for that round anyway, and the others ask for it by version.
  if (options_.mode != Mode::ps_sync) fetch();
  for (int w = 1; w < workers(); ++w)
    send_message(*comm_, w, PsTag::warm_go, {.worker = 0, .clock = pushes_, .version = pushes_}, {});
}

void ParameterServerWorker::before_checkpoint(int64_t step) {
  // Ask every shard, then wait for all: they save in parallel. In ps-sync the shard answers once
  // the round of our last push is applied, so the snapshot holds exactly `step` rounds.
  const bool sync = options_.mode == Mode::ps_sync;
  for (size_t s = 0; s < shards_.size(); ++s) {
    PsHeader h{.worker = comm_->rank(), .clock = clock(), .version = sync ? versions_[s] + 1 : 0, .step = step};
    send_message(*comm_, server_rank(static_cast<int>(s), workers()), PsTag::snapshot, h, {});
  }
  for (size_t s = 0; s < shards_.size(); ++s)
    recv_message(*comm_, server_rank(static_cast<int>(s), workers()), PsTag::snapshot_done, {});
}

void ParameterServerWorker::before_forward() {
  const bool every_step = options_.mode == Mode::ps_sync || options_.mode == Mode::ps_ssp;
  const auto t = profile_.now();
  if (steps_ > 0 && (every_step ? true : steps_ % options_.n_fetch == 0)) fetch();
  computing_since_ = profile_.add(0, t);
  faults_.begin();
}

void ParameterServerWorker::after_backward() {
  for (size_t p = 0; p < params_.size(); ++p) {
    const Tensor g = params_[p].second.grad();
    if (!g.defined()) continue;  // no part in this loss: nothing to add
    const Tensor c = g.contiguous();
    const float* in = c.data_ptr<float>();
    float* out = accumulated_.data() + param_offset_[p];
    for (int64_t i = 0, n = c.numel(); i < n; ++i) out[i] += in[i];
  }
  ++since_push_;
}

void ParameterServerWorker::step(optim::Optimizer& optimizer) {
  lr_ = optimizer.lr();
  const auto t = profile_.add(1, computing_since_);
  faults_.end(steps_ + 1);
  if (since_push_ >= options_.n_push) push();
  profile_.add(2, t);
  ++steps_;
  if (!warm_released_ && steps_ >= options_.warm_start) release_warm_start();
}

void ParameterServerWorker::push() {
  const float scale = 1.0f / static_cast<float>(since_push_);
  for (size_t s = 0; s < shards_.size(); ++s) {
    sends_[s].wait();  // the previous push to this server has left its buffer
    std::vector<float> slice(static_cast<size_t>(shards_[s].elements));
    for (const ShardPiece& piece : shards_[s].pieces) {
      const float* src = accumulated_.data() + param_offset_[piece.param] + piece.begin;
      for (int64_t i = 0; i < piece.end - piece.begin; ++i)
        slice[static_cast<size_t>(piece.offset + i)] = src[i] * scale;
    }
    PsHeader h{.worker = comm_->rank(), .clock = clock() + 1, .version = versions_[s], .lr = lr_};
    send_buffers_[s] = pack(h, slice);
    sends_[s] =
        comm_->isend(send_buffers_[s], server_rank(static_cast<int>(s), workers()), static_cast<int>(PsTag::push));
  }
  std::fill(accumulated_.begin(), accumulated_.end(), 0.0f);
  since_push_ = 0;
  ++pushes_;
}

void ParameterServerWorker::fetch() {
  // Ask every shard first, then collect: the shards answer in parallel.
  for (size_t s = 0; s < shards_.size(); ++s) {
    PsHeader h{
        .worker = comm_->rank(), .clock = clock(), .version = options_.mode == Mode::ps_sync ? versions_[s] + 1 : 0};
    send_message(*comm_, server_rank(static_cast<int>(s), workers()), PsTag::pull, h, {});
  }
  autograd::NoGradGuard no_grad;
  for (size_t s = 0; s < shards_.size(); ++s) {
    std::vector<float> values(static_cast<size_t>(shards_[s].elements));
    const PsHeader reply = recv_message(*comm_, server_rank(static_cast<int>(s), workers()), PsTag::params, values);
    versions_[s] = reply.version;
    for (const ShardPiece& piece : shards_[s].pieces) {
      float* dst = params_[piece.param].second.data_ptr<float>() + piece.begin;
      std::memcpy(dst, values.data() + piece.offset, static_cast<size_t>(piece.end - piece.begin) * sizeof(float));
    }
  }
  ++fetches_;
}

std::vector<RankStats> ParameterServerWorker::finish(int64_t samples, double train_seconds) {
  if (since_push_ > 0) push();
  if (!warm_released_) release_warm_start();  // a run shorter than the warm start
  for (Request& r : sends_) r.wait();
  for (size_t s = 0; s < shards_.size(); ++s)
    send_message(*comm_, server_rank(static_cast<int>(s), workers()), PsTag::done, {.worker = comm_->rank()}, {});
  RankStats mine;
  mine.samples = samples;
  mine.train_seconds = train_seconds;
  mine.comm_seconds = comm_->stats().comm_seconds;
  mine.bytes_sent = comm_->stats().bytes_sent;
  profile_.report("worker", comm_->rank());
  return gather_rank_stats(*comm_, mine);
}

std::vector<RankStats> run_parameter_server(std::shared_ptr<Communicator> comm, nn::Module& model,
                                            const Options& options, const OptimizerFactory& update_rule,
                                            double reference_lr, const std::filesystem::path& snapshot_dir) {
  validate(options, comm->size());
  const int workers = comm->size() - options.servers;
  DENDRITE_CHECK(comm->rank() >= workers, "run_parameter_server: rank {} is a worker rank", comm->rank());
  broadcast_model(*comm, model);
  const int64_t resume_step = share_resume_step(*comm, -1);
  const nn::NamedTensors params = model.named_parameters();
  std::vector<Shard> shards = slice_by_bytes(numels_of(params), options.servers);
  ServerConfig config{.mode = options.mode,
                      .workers = workers,
                      .staleness = options.staleness,
                      .backup = options.backup,
                      .staleness_lr = options.staleness_lr,
                      .reference_lr = reference_lr,
                      .warm_start = resume_step >= 0 ? 0 : options.warm_start,
                      .shard_index = comm->rank() - workers,
                      .snapshot_dir = snapshot_dir};
  ParameterServer server(comm, config, std::move(shards[static_cast<size_t>(comm->rank() - workers)]), params,
                         update_rule);
  if (resume_step >= 0) server.restore(resume_step);
  server.serve();
  return gather_rank_stats(*comm, server.stats());
}

}  // namespace dendrite::dist
