#include "dendrite/dist/ps_slicer.h"

#include <algorithm>

#include "dendrite/core/error.h"

namespace dendrite::dist {

std::vector<Shard> slice_by_bytes(const std::vector<int64_t>& numels, int servers) {
  DENDRITE_CHECK(servers >= 1, "slice_by_bytes: servers must be >= 1, got {}", servers);
  int64_t total = 0;
  for (int64_t n : numels) total += n;
  std::vector<Shard> shards(static_cast<size_t>(servers));
  int64_t start = 0;  // the flat index where parameter p begins
  for (size_t p = 0; p < numels.size(); ++p) {
    for (int s = 0; s < servers; ++s) {
      // Server s owns [s * total / S, (s + 1) * total / S) of the flat vector.
      const int64_t lo = total * s / servers, hi = total * (s + 1) / servers;
      const int64_t begin = std::max(lo, start), end = std::min(hi, start + numels[p]);
      if (begin >= end) continue;
      Shard& shard = shards[static_cast<size_t>(s)];
      shard.pieces.push_back({p, begin - start, end - start, shard.elements});
      shard.elements += end - begin;
    }
    start += numels[p];
  }
  return shards;
}

}  // namespace dendrite::dist
