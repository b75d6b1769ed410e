#include <cstring>

#include "dendrite/dist/strategy.h"

namespace dendrite::dist {
namespace {

// RankStats travel as f64 (every count here is far below 2^53).
constexpr size_t kFixed = 8;
constexpr size_t kWidth = kFixed + kStalenessBins;

}  // namespace

std::vector<RankStats> gather_rank_stats(Communicator& comm, const RankStats& mine) {
  TensorBase in = TensorBase::empty({static_cast<int64_t>(kWidth)}, DType::f64);
  TensorBase out = TensorBase::empty({static_cast<int64_t>(kWidth) * comm.size()}, DType::f64);
  double* p = static_cast<double*>(in.raw_data());
  const double fixed[kFixed] = {static_cast<double>(comm.rank()),
                                static_cast<double>(mine.server),
                                static_cast<double>(mine.samples),
                                mine.train_seconds,
                                mine.comm_seconds,
                                static_cast<double>(mine.bytes_sent),
                                static_cast<double>(mine.updates),
                                static_cast<double>(mine.dropped)};
  std::memcpy(p, fixed, sizeof(fixed));
  for (size_t k = 0; k < kStalenessBins; ++k) p[kFixed + k] = static_cast<double>(mine.staleness[k]);
  comm.all_gather(in, out);
  std::vector<RankStats> all(static_cast<size_t>(comm.size()));
  const double* q = static_cast<const double*>(out.raw_data());
  for (size_t r = 0; r < all.size(); ++r, q += kWidth) {
    RankStats& s = all[r];
    s.rank = static_cast<int>(q[0]);
    s.server = q[1] != 0;
    s.samples = static_cast<int64_t>(q[2]);
    s.train_seconds = q[3];
    s.comm_seconds = q[4];
    s.bytes_sent = static_cast<int64_t>(q[5]);
    s.updates = static_cast<int64_t>(q[6]);
    s.dropped = static_cast<int64_t>(q[7]);
    for (size_t k = 0; k < kStalenessBins; ++k) s.staleness[k] = static_cast<int64_t>(q[kFixed + k]);
  }
  return all;
}

}  // namespace dendrite::dist
