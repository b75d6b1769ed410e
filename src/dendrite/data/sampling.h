// Random draws the data layer shares: unbiased integers below a bound and per-purpose seeds.
// Every random choice of a DataLoader (the epoch's order, each batch's augmentation) comes from
// a Generator seeded by derive_seed(seed, epoch, stream), so any batch can be rebuilt on its own:
// prefetching and resuming mid-epoch see exactly the numbers an uninterrupted run sees.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "dendrite/core/random.h"

namespace dendrite::data {

// Uniform on [0, bound) without modulo bias (rejects the low `2^64 mod bound` values).
inline uint64_t uniform_below(Generator& gen, uint64_t bound) {
  const uint64_t threshold = (0 - bound) % bound;
  while (true) {
    const uint64_t r = gen.next_u64();
    if (r >= threshold) return r % bound;
  }
}

// Uniform on [low, high].
inline int64_t uniform_int(Generator& gen, int64_t low, int64_t high) {
  return low + static_cast<int64_t>(uniform_below(gen, static_cast<uint64_t>(high - low) + 1));
}

// Hashes (seed, epoch, stream) into an independent seed; each input goes through a SplitMix64
// round so that neighbouring epochs or streams give unrelated sequences.
inline uint64_t derive_seed(uint64_t seed, uint64_t epoch, uint64_t stream) {
  Generator a(seed);
  Generator b(a.next_u64() ^ epoch);
  Generator c(b.next_u64() ^ stream);
  return c.next_u64();
}

// The numbers 0..n-1 in a random order (Fisher-Yates, Knuth TAOCP vol. 2, algorithm P).
inline std::vector<int64_t> random_permutation(int64_t n, Generator& gen) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(uniform_below(gen, static_cast<uint64_t>(i) + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

}  // namespace dendrite::data
