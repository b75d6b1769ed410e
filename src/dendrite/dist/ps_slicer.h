// Parameter-server policy, part 1: which server owns which parameter elements (ps-lite's slicer).
// Parameters are laid end to end as one flat f32 vector and cut into `servers` contiguous ranges
// of equal size (so equal bytes: one dtype), a parameter crossing a cut being split between two
// servers. Every update rule the shards run is elementwise (SGD, Adagrad), so a split is exact.
//
// Ranks: workers are 0 .. W-1 (rank 0 writes the run), servers are W .. W+S-1.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace dendrite::dist {

// Elements [begin, end) of parameter `param` (flattened), found at `offset` in its shard's buffer.
struct ShardPiece {
  size_t param = 0;
  int64_t begin = 0, end = 0;
  int64_t offset = 0;
};

struct Shard {
  std::vector<ShardPiece> pieces;
  int64_t elements = 0;
};

// The default policy above; `numels` are the parameters' sizes in order.
std::vector<Shard> slice_by_bytes(const std::vector<int64_t>& numels, int servers);
using Slicer = std::function<std::vector<Shard>(const std::vector<int64_t>& numels, int servers)>;

inline int server_rank(int server, int workers) { return workers + server; }

}  // namespace dendrite::dist
