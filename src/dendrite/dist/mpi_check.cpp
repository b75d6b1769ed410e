// The check before every blocking collective: each rank sends (sequence number, operation, dtype,
// shape, root or reduction) to rank 0 over the control communicator; rank 0 waits for all of them
// under the deadline, compares each with its own and answers every rank with one verdict: go on,
// a mismatch (an Error on every rank, naming both ranks and both shapes), or a deadline report
// naming the ranks that never arrived. The cost is two small messages per collective, which is
// why hot loops use the unchecked non-blocking collectives after checking their layout once.
#include <array>
#include <cstring>

#include "dendrite/dist/mpi_communicator.h"
#include "dendrite/dist/poll.h"

namespace dendrite::dist {
namespace {

constexpr int kMetaTag = 1;
constexpr int kVerdictTag = 2;
constexpr size_t kMaxDims = 16;
// seq, op, extra, dtype (-1: no tensor), ndim, numel, dims...
constexpr size_t kMetaLen = 6 + kMaxDims;
constexpr size_t kVerdictLen = 1024;
// Ranks other than 0 wait this much longer than rank 0, so that rank 0, which knows who is
// missing, reports first and tells them.
constexpr double kGraceSeconds = 2.0;

using Meta = std::array<int64_t, kMetaLen>;
using Verdict = std::array<char, kVerdictLen>;

Meta encode(int64_t seq, MpiCommunicator::Op op, const TensorBase* t, int64_t extra) {
  Meta m{};
  m[0] = seq;
  m[1] = static_cast<int64_t>(op);
  m[2] = extra;
  m[3] = t != nullptr ? static_cast<int64_t>(t->dtype()) : -1;
  if (t != nullptr) {
    m[4] = t->dim();
    m[5] = t->numel();
    for (size_t i = 0; i < kMaxDims && i < t->shape().size(); ++i) m[6 + i] = t->shape()[i];
  }
  return m;
}

std::string tensor_of(const Meta& m) {
  if (m[3] < 0) return "no tensor";
  Shape shape;
  for (int64_t i = 0; i < m[4] && i < static_cast<int64_t>(kMaxDims); ++i)
    shape.push_back(m[6 + static_cast<size_t>(i)]);
  std::string s = fmt::format("{} {}", name(static_cast<DType>(m[3])), to_string(shape));
  if (m[4] > static_cast<int64_t>(kMaxDims)) s += fmt::format(" ({} elements)", m[5]);
  return s;
}

std::string call_of(const Meta& m) {
  return fmt::format("{} #{}", op_name(static_cast<MpiCommunicator::Op>(m[1])), m[0]);
}

std::string extra_of(const Meta& m) {
  const auto op = static_cast<MpiCommunicator::Op>(m[1]);
  if (op == MpiCommunicator::Op::broadcast) return fmt::format("root {}", m[2]);
  if (op == MpiCommunicator::Op::all_reduce || op == MpiCommunicator::Op::reduce_scatter)
    return fmt::format("op {}", name(static_cast<ReduceOp>(m[2])));
  return "";
}

// Empty when rank r's call agrees with rank 0's; otherwise the message every rank throws.
std::string compare(const Meta& mine, const Meta& theirs, int r) {
  if (mine[0] != theirs[0] || mine[1] != theirs[1])
    return fmt::format("dist: ranks called different collectives: rank 0 called {} ({}), rank {} called {} ({})",
                       call_of(mine), tensor_of(mine), r, call_of(theirs), tensor_of(theirs));
  if (!std::equal(mine.begin() + 3, mine.end(), theirs.begin() + 3))
    return fmt::format("dist: {}: mismatched tensors: rank 0 has {}, rank {} has {}", call_of(mine), tensor_of(mine), r,
                       tensor_of(theirs));
  if (mine[2] != theirs[2])
    return fmt::format("dist: {} of {}: rank 0 passed {}, rank {} passed {}", call_of(mine), tensor_of(mine),
                       extra_of(mine), r, extra_of(theirs));
  return "";
}

Verdict make_verdict(char kind, const std::string& message) {
  Verdict v{};
  v[0] = kind;
  std::memcpy(v.data() + 1, message.data(), std::min(message.size(), kVerdictLen - 2));
  return v;
}

std::string ranks_text(const std::vector<int>& ranks) {
  return fmt::format("{} {}", ranks.size() == 1 ? "rank" : "ranks", fmt::join(ranks, ", "));
}

}  // namespace

const char* op_name(MpiCommunicator::Op op) {
  switch (op) {
    case MpiCommunicator::Op::barrier: return "barrier";
    case MpiCommunicator::Op::broadcast: return "broadcast";
    case MpiCommunicator::Op::all_reduce: return "all_reduce";
    case MpiCommunicator::Op::reduce_scatter: return "reduce_scatter";
    case MpiCommunicator::Op::all_gather: return "all_gather";
  }
  return "?";
}

void MpiCommunicator::check(Op op, const TensorBase* t, int64_t extra) {
  const Meta mine = encode(++seq_, op, t, extra);
  if (size_ == 1) return;
  const auto start = std::chrono::steady_clock::now();
  const std::string call = fmt::format("{} of {}", call_of(mine), tensor_of(mine));

  if (rank_ != 0) {
    Verdict verdict{};
    MPI_Request requests[2];
    check_mpi(MPI_Isend(mine.data(), kMetaLen, MPI_INT64_T, 0, kMetaTag, control_, &requests[0]), "MPI_Isend");
    check_mpi(MPI_Irecv(verdict.data(), kVerdictLen, MPI_CHAR, 0, kVerdictTag, control_, &requests[1]), "MPI_Irecv");
    poll_until(
        [&] {
          int flag = 0;
          check_mpi(MPI_Testall(2, requests, &flag, MPI_STATUSES_IGNORE), "MPI_Testall");
          return flag != 0;
        },
        timeout_ + kGraceSeconds,
        [&](double waited) {
          return fmt::format(
              "dist: deadline: {} on rank {} of {}: rank 0 never answered within {:.1f} s (--comm-timeout {:g}); "
              "rank 0 has not reached this collective, or has died",
              call, rank_, size_, waited, timeout_);
        });
    stats_.comm_seconds += seconds_since(start);
    if (verdict[0] == 'K') return;
    const std::string message(verdict.data() + 1);
    if (verdict[0] == 'T') throw DeadlineExceeded(message);
    throw Error(message);
  }

  std::vector<Meta> theirs(static_cast<size_t>(size_));
  std::vector<MPI_Request> requests(static_cast<size_t>(size_), MPI_REQUEST_NULL);
  std::vector<bool> arrived(static_cast<size_t>(size_), false);
  arrived[0] = true;
  for (int r = 1; r < size_; ++r)
    check_mpi(MPI_Irecv(theirs[static_cast<size_t>(r)].data(), kMetaLen, MPI_INT64_T, r, kMetaTag, control_,
                        &requests[static_cast<size_t>(r)]),
              "MPI_Irecv");
  auto all_arrived = [&] {
    bool all = true;
    for (size_t r = 1; r < arrived.size(); ++r) {
      if (arrived[r]) continue;
      int flag = 0;
      check_mpi(MPI_Test(&requests[r], &flag, MPI_STATUS_IGNORE), "MPI_Test");
      arrived[r] = flag != 0;
      all = all && arrived[r];
    }
    return all;
  };
  auto answer = [&](const Verdict& verdict, double deadline) {
    std::vector<MPI_Request> sends;
    for (int r = 1; r < size_; ++r) {
      if (!arrived[static_cast<size_t>(r)]) continue;
      sends.emplace_back();
      check_mpi(MPI_Isend(verdict.data(), kVerdictLen, MPI_CHAR, r, kVerdictTag, control_, &sends.back()), "MPI_Isend");
    }
    poll_until(
        [&] {
          int flag = 0;
          check_mpi(MPI_Testall(static_cast<int>(sends.size()), sends.data(), &flag, MPI_STATUSES_IGNORE),
                    "MPI_Testall");
          return flag != 0;
        },
        deadline,
        [&](double waited) {
          return fmt::format("dist: deadline: {} on rank 0: could not answer the other ranks within {:.1f} s", call,
                             waited);
        });
  };

  try {
    poll_until(all_arrived, timeout_, [&](double waited) {
      std::vector<int> missing, present;
      for (int r = 0; r < size_; ++r) (arrived[static_cast<size_t>(r)] ? present : missing).push_back(r);
      return fmt::format("dist: deadline: {}: {} never arrived within {:.1f} s (--comm-timeout {:g}); {} did", call,
                         ranks_text(missing), waited, timeout_, ranks_text(present));
    });
  } catch (const DeadlineExceeded& e) {
    // Withdraw the receives of the ranks that never came, and tell those that did why the job ends.
    for (size_t r = 1; r < requests.size(); ++r) {
      if (arrived[r]) continue;
      MPI_Cancel(&requests[r]);
      MPI_Request_free(&requests[r]);
    }
    try {
      answer(make_verdict('T', e.what()), 1.0);
    } catch (const DeadlineExceeded&) {  // the report below is what matters
    }
    throw;
  }
  std::string mismatch;
  for (int r = 1; r < size_ && mismatch.empty(); ++r) mismatch = compare(mine, theirs[static_cast<size_t>(r)], r);
  answer(mismatch.empty() ? make_verdict('K', "") : make_verdict('E', mismatch), timeout_);
  stats_.comm_seconds += seconds_since(start);
  if (!mismatch.empty()) throw Error(mismatch);
}

}  // namespace dendrite::dist
