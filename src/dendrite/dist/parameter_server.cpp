#include "dendrite/dist/parameter_server.h"

#include <algorithm>
#include <cstring>

#include "dendrite/autograd/autograd.h"
#include "dendrite/dist/poll.h"
#include "dendrite/dist/ps_snapshot.h"
#include "dendrite/optim/adagrad.h"
#include "dendrite/optim/sgd.h"

namespace dendrite::dist {

OptimizerFactory default_update_rule(const Options& options, double lr) {
  const std::string kind = options.ps_optim;
  return [kind, lr](nn::NamedTensors params) -> std::unique_ptr<optim::Optimizer> {
    if (kind == "sgd") return std::make_unique<optim::SGD>(std::move(params), optim::SGDOptions{.lr = lr});
    return std::make_unique<optim::Adagrad>(std::move(params), optim::AdagradOptions{.lr = lr});
  };
}

ParameterServer::ParameterServer(std::shared_ptr<Communicator> comm, ServerConfig config, Shard shard,
                                 const nn::NamedTensors& params, const OptimizerFactory& update_rule)
    : comm_(std::move(comm)), config_(config), shard_(std::move(shard)) {
  DENDRITE_CHECK(config_.workers >= 1, "ParameterServer: workers must be >= 1");
  autograd::NoGradGuard no_grad;
  for (const ShardPiece& piece : shard_.pieces) {
    DENDRITE_CHECK(piece.param < params.size(), "ParameterServer: shard names parameter {} of {}", piece.param,
                   params.size());
    const auto& [name, p] = params[piece.param];
    DENDRITE_CHECK(p.dtype() == DType::f32 && p.is_contiguous(),
                   "parameter server: parameter '{}' is {}; shards hold contiguous f32 parameters", name, describe(p));
    Tensor t = Tensor(TensorBase::empty({piece.end - piece.begin}, DType::f32));
    std::memcpy(t.raw_data(), p.data_ptr<float>() + piece.begin, static_cast<size_t>(t.numel()) * sizeof(float));
    t.requires_grad_();
    tensors_.emplace_back(fmt::format("{}[{}:{}]", name, piece.begin, piece.end), t);
  }
  // A shard may own nothing (more servers than elements); it still answers.
  if (!tensors_.empty()) {
    optimizer_ = update_rule(tensors_);
    base_lr_ = optimizer_->lr();
  }
  clocks_.assign(static_cast<size_t>(config_.workers), 0);
  done_.assign(static_cast<size_t>(config_.workers), false);
  heard_.assign(static_cast<size_t>(config_.workers), false);
  round_sum_.assign(static_cast<size_t>(shard_.elements), 0.0f);
  stats_.server = true;
}

void ParameterServer::apply(std::span<const float> grad, double lr) {
  if (!optimizer_) return;
  for (size_t k = 0; k < tensors_.size(); ++k) {
    const ShardPiece& piece = shard_.pieces[k];
    Tensor g = Tensor(TensorBase::empty({piece.end - piece.begin}, DType::f32));
    std::memcpy(g.raw_data(), grad.data() + piece.offset, static_cast<size_t>(g.numel()) * sizeof(float));
    tensors_[k].second.set_grad(g);
  }
  optimizer_->set_lr(lr);
  optimizer_->step();
}

void ParameterServer::on_push(const PsMessage& m) {
  DENDRITE_CHECK(m.payload.size() == static_cast<size_t>(shard_.elements),
                 "parameter server rank {}: a push of {} values from rank {}, expected {}", comm_->rank(),
                 m.payload.size(), m.source, shard_.elements);
  const int64_t staleness = std::max<int64_t>(0, version_ - m.header.version);
  double lr = base_lr_;
  if (config_.reference_lr > 0 && m.header.lr > 0) lr *= m.header.lr / config_.reference_lr;
  if (config_.mode == Mode::ps_sync) {
    if (m.header.version < version_) {  // a backup worker's gradient for a round already applied
      ++stats_.dropped;
      return;
    }
    for (size_t i = 0; i < round_sum_.size(); ++i) round_sum_[i] += m.payload[i];
    ++round_count_;
    round_lr_ = lr;
    ++stats_.staleness[0];
    try_finish_round();
    return;
  }
  // Zhang et al. 2016 (staleness-aware async SGD): divide the step by the gradient's staleness.
  if (config_.staleness_lr && staleness > 1) lr /= static_cast<double>(staleness);
  ++stats_.staleness[std::min<size_t>(static_cast<size_t>(staleness), kStalenessBins - 1)];
  apply(m.payload, lr);
  ++version_;
  ++stats_.updates;
}

void ParameterServer::try_finish_round() {
  const int active = static_cast<int>(std::count(done_.begin(), done_.end(), false));
  // Warm-start rounds are worker 0's alone (its done ends them: a run shorter than the warm start).
  const bool warm = version_ < config_.warm_start && !done_[0];
  const int needed = warm ? 1 : std::min(config_.workers - config_.backup, active);
  if (round_count_ == 0 || round_count_ < needed) return;
  const float scale = 1.0f / static_cast<float>(round_count_);
  for (float& v : round_sum_) v *= scale;
  apply(round_sum_, round_lr_);
  std::fill(round_sum_.begin(), round_sum_.end(), 0.0f);
  round_count_ = 0;
  ++version_;
  ++stats_.updates;
}

bool ParameterServer::can_answer(const PsMessage& pull) const {
  switch (config_.mode) {
    case Mode::ps_sync: return version_ >= pull.header.version;
    case Mode::ps_ssp: {
      int64_t slowest = pull.header.clock;
      for (size_t w = 0; w < clocks_.size(); ++w) {
        const bool joined = heard_[w] || w == 0 || config_.warm_start == 0;
        if (joined && !done_[w]) slowest = std::min(slowest, clocks_[w]);
      }
      return pull.header.clock - slowest <= config_.staleness;
    }
    default: return true;
  }
}

void ParameterServer::answer_pending() {
  // Every answerable pull gets the same bytes: pack them once and send them to all the askers at
  // once, then wait for all. Sending them one after another, each blocking until its receiver had
  // taken the message, put every worker's wake-up on the path of the next worker's reply (docs/dist.md
  // "ps-sync"): a sync round ends with all workers asking at the same time.
  std::vector<std::byte> reply_bytes;
  std::vector<Request> replies;
  for (auto it = pending_pulls_.begin(); it != pending_pulls_.end();) {
    if (!can_answer(*it)) {
      ++it;
      continue;
    }
    PsHeader reply;
    reply.version = version_;
    if (it->tag == PsTag::snapshot) {
      snapshot(*it);
      send_message(*comm_, it->source, PsTag::snapshot_done, reply, {});
    } else {
      if (reply_bytes.empty()) {
        std::vector<float> values(static_cast<size_t>(shard_.elements));
        for (size_t k = 0; k < tensors_.size(); ++k)
          std::memcpy(values.data() + shard_.pieces[k].offset, tensors_[k].second.raw_data(),
                      static_cast<size_t>(tensors_[k].second.numel()) * sizeof(float));
        reply_bytes = pack(reply, values);
      }
      replies.push_back(comm_->isend(reply_bytes, it->source, static_cast<int>(PsTag::params)));
    }
    it = pending_pulls_.erase(it);
  }
  for (Request& r : replies) r.wait();  // before reply_bytes goes
}

void ParameterServer::serve() {
  const auto start = std::chrono::steady_clock::now();
  auto last_heard = start;
  Backoff backoff;
  while (std::count(done_.begin(), done_.end(), false) > 0) {
    auto t = profile_.now();
    std::optional<PsMessage> m = poll_message(*comm_);
    if (!m) {
      const double quiet = seconds_since(last_heard);
      if (quiet > comm_->timeout()) {
        std::vector<int> waiting;
        for (size_t w = 0; w < done_.size(); ++w)
          if (!done_[w]) waiting.push_back(static_cast<int>(w));
        throw DeadlineExceeded(fmt::format(
            "dist: deadline: parameter server rank {}: no message from any worker for {:.1f} s (--comm-timeout "
            "{:g}); still waiting for worker ranks {}",
            comm_->rank(), quiet, comm_->timeout(), fmt::join(waiting, ", ")));
      }
      backoff.pause();
      profile_.add(3, t);
      continue;
    }
    t = profile_.add(0, t);
    backoff.reset();
    last_heard = std::chrono::steady_clock::now();
    const auto w = static_cast<size_t>(m->header.worker);
    DENDRITE_CHECK(w < done_.size(), "parameter server rank {}: a message from worker {} of {}", comm_->rank(), w,
                   done_.size());
    // Every message carries the sender's clock: pushes made, this one included (after a warm
    // start, from worker 0's clock when the sender joined); a done message carries 0.
    clocks_[w] = std::max(clocks_[w], m->header.clock);
    heard_[w] = true;
    switch (m->tag) {
      case PsTag::push:
        on_push(*m);
        t = profile_.add(1, t);
        break;
      case PsTag::pull:
      case PsTag::snapshot: pending_pulls_.push_back(std::move(*m)); break;
      case PsTag::done:
        done_[w] = true;
        if (config_.mode == Mode::ps_sync) try_finish_round();
        break;
      default:
        fail("parameter server rank {}: unexpected tag {} from rank {}", comm_->rank(), static_cast<int>(m->tag),
             m->source);
    }
    answer_pending();
    profile_.add(2, t);
  }
  serve_seconds_ = seconds_since(start);
  profile_.report("server", comm_->rank());
}

void ParameterServer::snapshot(const PsMessage& request) {
  if (config_.snapshot_dir.empty()) return;
  const int64_t step = request.header.step;
  ShardSnapshot s;
  s.step = step;
  s.version = version_;
  s.params = tensors_;
  if (optimizer_) {
    s.optimizer_state = optimizer_->state();
    s.optimizer_scalars = optimizer_->state_scalars();
  }
  save_snapshot(snapshot_path(config_.snapshot_dir, config_.shard_index, step), s);
  if (kept_steps_.empty() || kept_steps_.back() != step) kept_steps_.push_back(step);
  if (kept_steps_.size() > 2) kept_steps_.erase(kept_steps_.begin());
  prune_snapshots(config_.snapshot_dir, config_.shard_index, kept_steps_);
}

void ParameterServer::restore(int64_t step) {
  DENDRITE_CHECK(!config_.snapshot_dir.empty(), "parameter server rank {}: resuming needs a snapshot directory",
                 comm_->rank());
  const std::filesystem::path file = snapshot_path(config_.snapshot_dir, config_.shard_index, step);
  ShardSnapshot s = load_snapshot(file);
  DENDRITE_CHECK(s.params.size() == tensors_.size(), "{}: {} parameter slices, this shard holds {}", file.string(),
                 s.params.size(), tensors_.size());
  for (size_t k = 0; k < tensors_.size(); ++k) {
    const auto& [name, t] = tensors_[k];
    DENDRITE_CHECK(s.params[k].first == name && s.params[k].second.shape() == t.shape() &&
                       s.params[k].second.dtype() == DType::f32,
                   "{}: slice {} is '{}' {}, this shard holds '{}' {} (was the model changed?)", file.string(), k,
                   s.params[k].first, describe(s.params[k].second), name, describe(t));
  }
  if (optimizer_) {
    optimizer_->load_state(s.optimizer_state);
    optimizer_->load_state_scalars(s.optimizer_scalars);
  }
  for (size_t k = 0; k < tensors_.size(); ++k)
    std::memcpy(tensors_[k].second.raw_data(), s.params[k].second.raw_data(),
                static_cast<size_t>(tensors_[k].second.numel()) * sizeof(float));
  version_ = s.version;
  kept_steps_ = {step};
}

RankStats ParameterServer::stats() const {
  RankStats s = stats_;
  s.train_seconds = serve_seconds_;
  s.comm_seconds = comm_->stats().comm_seconds;
  s.bytes_sent = comm_->stats().bytes_sent;
  return s;
}

}  // namespace dendrite::dist
