// ShardedDataset: the distributed sampler. Every rank runs the same DataLoader (same seed, so the
// same epoch order) over a ShardedDataset with a batch of `shards` local batches; gather() keeps
// only this shard's contiguous part of each global batch:
//
//   global batch b (from the loader's order):  [ shard 0 | shard 1 | ... | shard N-1 ]
//
// so in every epoch the shards read disjoint examples, together exactly the examples one process
// with the global batch would read, and N ranks with batch B/N see what 1 rank with batch B sees.
// A batch whose size does not divide evenly gives the first (size mod N) shards one more example.
//
// Thread-safety: as the wrapped dataset (immutable itself).
#pragma once

#include <memory>

#include "dendrite/data/dataset.h"

namespace dendrite::data {

class ShardedDataset : public Dataset {
 public:
  // 0 <= shard < shards.
  ShardedDataset(std::shared_ptr<const Dataset> inner, int shard, int shards);

  int64_t size() const override { return inner_->size(); }
  Example get(int64_t index) const override { return inner_->get(index); }
  // This shard's part of `indices` (see above).
  Batch gather(std::span<const int64_t> indices) const override;

  int shard() const { return shard_; }
  int shards() const { return shards_; }
  // The [begin, end) of this shard within a global batch of `n` examples.
  std::pair<int64_t, int64_t> range(int64_t n) const;

 private:
  std::shared_ptr<const Dataset> inner_;
  int shard_;
  int shards_;
};

}  // namespace dendrite::data
