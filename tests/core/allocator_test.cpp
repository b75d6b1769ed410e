// The caching host allocator (core/allocator.h): freed blocks of a size class come back for the
// next request of that class, small blocks bypass the cache, the limit evicts the oldest blocks
// first, and the statistics add up.
#include "dendrite/core/allocator.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "dendrite/core/storage.h"

namespace dendrite {
namespace {

// Restores the process-wide limit a test changes and starts from an empty cache.
class AllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_limit_ = cache_limit();
    set_cache_limit(size_t{64} << 20);
    empty_cache();
  }
  void TearDown() override { set_cache_limit(saved_limit_); }
  size_t saved_limit_ = 0;
};

TEST_F(AllocatorTest, FreedBlockIsReusedForTheSameSizeClass) {
  void* a = host_allocate(300'000);
  host_free(a, 300'000);
  const AllocatorStats before = allocator_stats();
  EXPECT_GE(before.cached_bytes, 300'000u);
  void* b = host_allocate(299'000);  // same class (eighths of a power of two)
  EXPECT_EQ(a, b);
  EXPECT_EQ(allocator_stats().cache_hits, before.cache_hits + 1);
  host_free(b, 299'000);
}

TEST_F(AllocatorTest, BlocksAreAlignedForVectorLoadsAndHugePages) {
  void* small = host_allocate(100);
  void* big = host_allocate(size_t{3} << 20);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big) % (size_t{2} << 20), 0u);
  static_cast<char*>(big)[(size_t{3} << 20) - 1] = 1;  // the whole requested size is usable
  host_free(small, 100);
  host_free(big, size_t{3} << 20);
}

TEST_F(AllocatorTest, SmallBlocksAreNotCached) {
  void* p = host_allocate(1000);
  host_free(p, 1000);
  EXPECT_EQ(allocator_stats().cached_bytes, 0u);
}

TEST_F(AllocatorTest, LimitEvictsOldestBlocksAndZeroDisablesCaching) {
  set_cache_limit(size_t{1} << 20);
  void* a = host_allocate(600'000);
  void* b = host_allocate(700'000);
  host_free(a, 600'000);
  host_free(b, 700'000);  // together over 1 MiB: a, the older one, goes
  const AllocatorStats s = allocator_stats();
  EXPECT_LE(s.cached_bytes, size_t{1} << 20);
  EXPECT_GE(s.cached_bytes, 700'000u);
  set_cache_limit(0);
  EXPECT_EQ(allocator_stats().cached_bytes, 0u);
  void* c = host_allocate(700'000);
  host_free(c, 700'000);
  EXPECT_EQ(allocator_stats().cached_bytes, 0u);
}

TEST_F(AllocatorTest, StatisticsTrackLiveAndPeakBytes) {
  const AllocatorStats start = allocator_stats();
  reset_peak_allocated();
  {
    Storage s = Storage::allocate(size_t{1} << 20);
    EXPECT_GE(allocator_stats().allocated_bytes, start.allocated_bytes + (size_t{1} << 20));
  }
  const AllocatorStats end = allocator_stats();
  EXPECT_EQ(end.allocated_bytes, start.allocated_bytes);
  EXPECT_GE(end.peak_allocated_bytes, start.allocated_bytes + (size_t{1} << 20));
}

}  // namespace
}  // namespace dendrite
