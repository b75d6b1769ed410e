// The MPI implementation of Communicator (OpenMPI from Debian; any MPI-3 library works).
//
// Two duplicates of the world communicator: `data` carries the collectives and the users'
// point-to-point messages, `control` carries only the metadata check that precedes every blocking
// collective, so a check can never match a user's message. The check (mpi_check.cpp) is a small
// gather at rank 0 and an answer back: rank 0 knows exactly which ranks arrived, which lets a
// deadline report name the ranks that never came, and compares every rank's operation, dtype and
// shape with its own before any data moves.
//
// Every blocking call is a non-blocking MPI call followed by a polled wait (poll.h).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dendrite/dist/communicator.h"

namespace dendrite::dist {

class MpiCommunicator : public Communicator {
 public:
  // Duplicates `world` (MPI must be initialised). `owns_mpi`: finalise MPI in the destructor.
  MpiCommunicator(MPI_Comm world, bool owns_mpi);
  ~MpiCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend() const override { return "mpi"; }

  void barrier() override;
  void broadcast(const TensorBase& t, int root) override;
  void all_reduce(const TensorBase& t, ReduceOp op) override;
  void reduce_scatter(const TensorBase& in, const TensorBase& out, ReduceOp op) override;
  void all_gather(const TensorBase& in, const TensorBase& out) override;

  Request ibroadcast(const TensorBase& t, int root) override;
  Request iall_reduce(const TensorBase& t, ReduceOp op) override;
  Request iall_gather(const TensorBase& in, const TensorBase& out) override;

  void send(std::span<const std::byte> data, int dest, int tag) override;
  void recv(std::span<std::byte> data, int source, int tag) override;
  Request isend(std::span<const std::byte> data, int dest, int tag) override;
  Request irecv(std::span<std::byte> data, int source, int tag) override;
  std::optional<Envelope> iprobe(int source, int tag) override;
  using Communicator::recv;
  using Communicator::send;

  void abort(int code) override;

  // The kinds of blocking collective the metadata check tells apart.
  enum class Op : int64_t { barrier, broadcast, all_reduce, reduce_scatter, all_gather };

 private:
  // The metadata check and arrival barrier before a blocking collective (mpi_check.cpp). `extra`
  // is what else must agree (the root, the reduction).
  void check(Op op, const TensorBase* t, int64_t extra);
  Request make_request(MPI_Request request, std::string what, std::vector<TensorBase> keep,
                       std::function<void()> after = {});
  std::string where() const;  // "rank 3 of 4"

  MPI_Comm data_ = MPI_COMM_NULL;
  MPI_Comm control_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  bool owns_mpi_ = false;
  int64_t seq_ = 0;  // blocking collectives so far: the same on every rank while they agree
};

// Throws dendrite::Error with MPI's message when `code` is not MPI_SUCCESS.
void check_mpi(int code, const char* call);
MPI_Datatype mpi_type(DType dtype);
const char* op_name(MpiCommunicator::Op op);

}  // namespace dendrite::dist
