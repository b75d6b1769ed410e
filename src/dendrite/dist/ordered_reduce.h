// Reductions whose result does not depend on MPI's algorithm (--deterministic): every rank gathers
// every rank's contribution and adds them itself, rank 0 first, then rank 1, ... Floating-point
// addition is not associative, so MPI's sum (ring, recursive doubling, a tree: chosen by message
// size and rank count, and free to differ between ranks) may differ in the last bits from run to
// run and from rank to rank; this one is the same sequence of additions on every rank, in every
// run. The price: each rank receives size() copies of the tensor instead of about two.
//
//   Request r = comm.iall_gather(bucket, gathered);   // gathered: size() x bucket.numel()
//   r.wait();
//   sum_in_rank_order(gathered, bucket, comm.size()); // bucket = ((c0 + c1) + c2) + ...
//
// Thread-safety: none needed (pure functions of their arguments; the collective is the caller's).
#pragma once

#include "dendrite/dist/communicator.h"

namespace dendrite::dist {

// out[i] = gathered[0 * n + i] + gathered[1 * n + i] + ... in that order (f32 or f64, contiguous;
// n = out.numel(), gathered.numel() == ranks * n).
void sum_in_rank_order(const TensorBase& gathered, const TensorBase& out, int ranks);

// A blocking all-reduce (sum or mean) computed as above: bit-identical on every rank and in every
// run with the same inputs. The mean divides each contribution by the rank count before the sum,
// as GradientReducer does.
void all_reduce_in_rank_order(Communicator& comm, const TensorBase& t, ReduceOp op);

}  // namespace dendrite::dist
