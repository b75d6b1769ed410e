#include "dendrite/dist/communicator.h"

#include <chrono>
#include <iostream>

#include "dendrite/dist/poll.h"

namespace dendrite::dist {

const char* name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return "sum";
    case ReduceOp::mean: return "mean";
    case ReduceOp::max: return "max";
    case ReduceOp::min: return "min";
  }
  return "?";
}

Request::Request(std::unique_ptr<Impl> impl, double timeout_seconds, CommStats* stats)
    : impl_(std::move(impl)), timeout_(timeout_seconds), stats_(stats) {}

Request& Request::operator=(Request&& other) noexcept {
  if (this != &other) {
    finish_quietly();
    impl_ = std::move(other.impl_);
    timeout_ = other.timeout_;
    stats_ = other.stats_;
    done_ = other.done_;
  }
  return *this;
}

Request::~Request() { finish_quietly(); }

void Request::finish_quietly() noexcept {
  if (impl_ == nullptr || done_) return;
  try {
    wait();
  } catch (const std::exception& e) {
    // Nothing may throw here; the buffers the operation uses may be freed after this, so the
    // report is the last useful thing to say.
    std::cerr << "dendrite: dist: abandoned request: " << e.what() << "\n";
  }
}

bool Request::test() {
  if (impl_ == nullptr || done_) return true;
  if (!impl_->test()) return false;
  done_ = true;
  impl_->on_complete();
  return true;
}

void Request::wait() {
  if (impl_ == nullptr || done_) return;
  const double waited = poll_until([this] { return impl_->test(); }, timeout_,
                                   [this](double seconds) {
                                     return fmt::format("{} did not complete within {:.1f} s (--comm-timeout {:g})",
                                                        impl_->describe(), seconds, timeout_);
                                   });
  if (stats_ != nullptr) stats_->comm_seconds += waited;
  done_ = true;
  impl_->on_complete();
}

void Communicator::set_timeout(double seconds) {
  DENDRITE_CHECK(seconds > 0, "Communicator: the timeout must be > 0 seconds, got {}", seconds);
  timeout_ = seconds;
}

std::span<std::byte> bytes_of(const TensorBase& t, const char* op) {
  DENDRITE_CHECK(t.defined(), "{}: undefined tensor", op);
  DENDRITE_CHECK(t.is_contiguous(), "{}: the tensor must be contiguous, got {} with strides {}", op, describe(t),
                 to_string(t.strides()));
  return {static_cast<std::byte*>(t.raw_data()), static_cast<size_t>(t.numel()) * element_size(t.dtype())};
}

void Communicator::send(const TensorBase& t, int dest, int tag) { send(bytes_of(t, "send"), dest, tag); }

void Communicator::recv(const TensorBase& t, int source, int tag) { recv(bytes_of(t, "recv"), source, tag); }

}  // namespace dendrite::dist
