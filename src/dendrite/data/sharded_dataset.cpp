#include "dendrite/data/sharded_dataset.h"

namespace dendrite::data {

ShardedDataset::ShardedDataset(std::shared_ptr<const Dataset> inner, int shard, int shards)
    : inner_(std::move(inner)), shard_(shard), shards_(shards) {
  DENDRITE_CHECK(inner_ != nullptr, "ShardedDataset: no dataset");
  DENDRITE_CHECK(shards >= 1 && shard >= 0 && shard < shards, "ShardedDataset: shard {} of {} is out of range", shard,
                 shards);
}

std::pair<int64_t, int64_t> ShardedDataset::range(int64_t n) const {
  const int64_t base = n / shards_, extra = n % shards_, s = shard_;
  const int64_t begin = s * base + std::min(s, extra);
  return {begin, begin + base + (s < extra ? 1 : 0)};
}

Batch ShardedDataset::gather(std::span<const int64_t> indices) const {
  const auto [begin, end] = range(static_cast<int64_t>(indices.size()));
  DENDRITE_CHECK(end > begin,
                 "ShardedDataset: a batch of {} examples leaves shard {} of {} without any; use a batch of at least "
                 "{} (or drop the last batch)",
                 indices.size(), shard_, shards_, shards_);
  return inner_->gather(indices.subspan(static_cast<size_t>(begin), static_cast<size_t>(end - begin)));
}

}  // namespace dendrite::data
