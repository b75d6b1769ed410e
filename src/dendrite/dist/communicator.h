// Communicator: how ranks of a distributed job exchange tensors. One abstract interface, so the
// MPI implementation (mpi_communicator.cpp) and a single-process one (local_communicator.cpp)
// serve every strategy today, and NCCL slots in later for device tensors.
//
//   auto comm = dist::init(argc, argv);          // MPI under mpirun/srun, 1 rank otherwise
//   comm->all_reduce(grad, ReduceOp::mean);      // blocking, in place, with a deadline
//   Request r = comm->iall_reduce(bucket, ReduceOp::sum);   // non-blocking: overlap, then
//   r.wait();                                    // ... wait (also with a deadline)
//
// Collectives take contiguous tensors and work in place where the result has the input's shape.
// Blocking collectives first check, across ranks, that every rank called the same collective with
// the same dtype and shape (STYLE.md, Horovod's controller): a mismatch throws dendrite::Error
// on every rank naming both ranks and both shapes, instead of hanging or summing garbage. The
// non-blocking variants skip that round trip (they serve hot loops whose layout was checked once,
// see GradientReducer).
//
// Deadlines: every blocking call, and Request::wait, gives up after timeout() seconds and throws
// DeadlineExceeded naming the operation, the peers that never arrived (when known) and how long
// it waited. Waiting polls with a growing sleep, never a busy spin: ranks often outnumber cores.
//
// Thread-safety: one thread at a time per communicator (MPI is initialised THREAD_SERIALIZED).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "dendrite/core/error.h"
#include "dendrite/core/tensor_base.h"

namespace dendrite::dist {

enum class ReduceOp : uint8_t { sum, mean, max, min };
const char* name(ReduceOp op);

// A blocking operation ran past its deadline. what() is the whole report.
class DeadlineExceeded : public Error {
 public:
  using Error::Error;
};

// Communication accounting of one rank (bytes this rank handed to the transport, and the wall time
// spent inside blocking calls and waits).
struct CommStats {
  int64_t bytes_sent = 0;
  double comm_seconds = 0.0;
  int64_t operations = 0;
};

// A pending non-blocking operation. Move-only; waiting is mandatory before the buffers are reused
// (the destructor of an unfinished request waits, with the deadline, and swallows nothing: a
// request that times out in a destructor is reported to stderr and the wait stops).
class Request {
 public:
  // What an implementation provides: test() drives progress and says whether it finished;
  // describe() names the operation for deadline reports.
  struct Impl {
    virtual ~Impl() = default;
    virtual bool test() = 0;
    virtual std::string describe() const = 0;
    virtual void on_complete() {}  // e.g. the division of a mean, run once after completion
  };

  Request() = default;
  Request(std::unique_ptr<Impl> impl, double timeout_seconds, CommStats* stats);
  Request(Request&&) noexcept = default;
  Request& operator=(Request&& other) noexcept;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  ~Request();

  bool valid() const { return impl_ != nullptr; }
  // True when the operation has finished (it runs on_complete then); never blocks.
  bool test();
  // Blocks until finished or the deadline passes (DeadlineExceeded).
  void wait();

 private:
  void finish_quietly() noexcept;

  std::unique_ptr<Impl> impl_;
  double timeout_ = 0.0;
  CommStats* stats_ = nullptr;
  bool done_ = false;
};

// Where a probed message comes from and how big it is.
struct Envelope {
  int source = 0;
  int tag = 0;
  int64_t bytes = 0;
};

inline constexpr int kAnySource = -1;
inline constexpr int kAnyTag = -1;

class Communicator {
 public:
  virtual ~Communicator() = default;
  Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "mpi", "local".
  virtual const char* backend() const = 0;

  // --- blocking collectives (metadata-checked, deadline-bounded) ---
  virtual void barrier() = 0;
  virtual void broadcast(const TensorBase& t, int root) = 0;
  virtual void all_reduce(const TensorBase& t, ReduceOp op) = 0;
  // `in` holds size() equal chunks along its flattened elements; rank r receives the reduction
  // of chunk r into `out` (out.numel() * size() == in.numel()).
  virtual void reduce_scatter(const TensorBase& in, const TensorBase& out, ReduceOp op) = 0;
  // `out` receives every rank's `in`, rank order, flattened (out.numel() == size() * in.numel()).
  virtual void all_gather(const TensorBase& in, const TensorBase& out) = 0;

  // --- non-blocking collectives (no metadata check; the caller keeps the tensors alive and
  // unchanged until the request completes; the Request also holds a handle to them) ---
  virtual Request ibroadcast(const TensorBase& t, int root) = 0;
  virtual Request iall_reduce(const TensorBase& t, ReduceOp op) = 0;
  virtual Request iall_gather(const TensorBase& in, const TensorBase& out) = 0;

  // --- point to point (bytes of contiguous tensors or raw buffers; tags >= 0) ---
  virtual void send(std::span<const std::byte> data, int dest, int tag) = 0;
  virtual void recv(std::span<std::byte> data, int source, int tag) = 0;
  virtual Request isend(std::span<const std::byte> data, int dest, int tag) = 0;
  virtual Request irecv(std::span<std::byte> data, int source, int tag) = 0;
  // A message waiting to be received (source/tag may be kAnySource/kAnyTag), without blocking.
  virtual std::optional<Envelope> iprobe(int source, int tag) = 0;
  void send(const TensorBase& t, int dest, int tag);
  void recv(const TensorBase& t, int source, int tag);

  // Ends the whole job with `code` (MPI_Abort): the way out after a DeadlineExceeded, when peers
  // may be stuck in calls that will never return. A 1-rank communicator just returns.
  virtual void abort(int code) = 0;

  double timeout() const { return timeout_; }
  void set_timeout(double seconds);
  const CommStats& stats() const { return stats_; }

 protected:
  double timeout_ = 300.0;
  CommStats stats_{};
};

// The bytes of a contiguous tensor (throws naming `op` otherwise).
std::span<std::byte> bytes_of(const TensorBase& t, const char* op);

}  // namespace dendrite::dist
