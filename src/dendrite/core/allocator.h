// The host allocator behind Storage: a cache of freed blocks, so that a training step, which frees
// and allocates the same activation and gradient sizes every step, stops paying the operating
// system for them. Without it every large buffer came back from malloc as freshly mapped pages and
// the first write to each 4 KiB page faulted: measured at about a quarter of a fashion-cnn step.
//
// Blocks of at least kCachedMinBytes are rounded up to a size class (eighths of a power of two,
// so at most 12.5% waste) and, when freed, kept for the next request of the same class, up to a
// cache limit (least recently freed blocks go first). Blocks of 2 MiB and more are aligned to
// 2 MiB and advised as transparent huge pages, so a first touch faults once per 2 MiB instead of
// once per 4 KiB. Smaller blocks go straight to malloc, which already keeps them.
//
// Thread-safety: every function may be called from any thread (the data loader's prefetch thread
// allocates batches while the training thread frees activations).
#pragma once

#include <cstddef>

namespace dendrite {

inline constexpr size_t kCachedMinBytes = size_t{1} << 16;  // 64 KiB

struct AllocatorStats {
  size_t allocated_bytes = 0;       // in blocks handed out and not yet freed (after rounding)
  size_t peak_allocated_bytes = 0;  // the maximum of allocated_bytes since start or reset_peak
  size_t cached_bytes = 0;          // in freed blocks kept for reuse
  size_t system_allocations = 0;    // blocks obtained from the system (cache misses included)
  size_t cache_hits = 0;            // requests served from the cache
};

// 64-byte aligned, uninitialised; never returns null (throws dendrite::Error when out of memory).
void* host_allocate(size_t bytes);
// `bytes` must be the size given to host_allocate for p.
void host_free(void* p, size_t bytes) noexcept;

AllocatorStats allocator_stats();
void reset_peak_allocated();
// Returns every cached block to the system (e.g. before measuring resident memory).
void empty_cache();
// The most bytes kept in freed blocks; default 1 GiB, or DENDRITE_CACHE_LIMIT_MB from the
// environment. 0 disables caching.
void set_cache_limit(size_t bytes);
size_t cache_limit();

}  // namespace dendrite
