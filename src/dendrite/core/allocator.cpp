#include "dendrite/core/allocator.h"

#include <sys/mman.h>

#include <bit>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <list>
#include <new>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "dendrite/core/error.h"

namespace dendrite {

namespace {

constexpr size_t kAlignment = 64;                   // one cache line; what AVX-512 loads prefer
constexpr size_t kHugePage = size_t{2} << 20;       // x86-64 transparent huge page
constexpr size_t kDefaultLimit = size_t{1} << 30;   // 1 GiB

// Rounds up to the next of 8 evenly spaced sizes between consecutive powers of two.
size_t size_class(size_t bytes) {
  if (bytes < kCachedMinBytes) return (bytes + kAlignment - 1) / kAlignment * kAlignment;
  const size_t power = std::bit_floor(bytes);
  const size_t step = power / 8;
  return (bytes + step - 1) / step * step;
}

size_t limit_from_environment() {
#if defined(__SANITIZE_ADDRESS__)
  // Reused blocks would hide use-after-free from AddressSanitizer.
  return 0;
#endif
  const char* v = std::getenv("DENDRITE_CACHE_LIMIT_MB");
  if (v == nullptr || *v == '\0') return kDefaultLimit;
  char* end = nullptr;
  const unsigned long long mb = std::strtoull(v, &end, 10);
  if (end == v || *end != '\0') return kDefaultLimit;  // a malformed value keeps the default
  return static_cast<size_t>(mb) << 20;
}

void* system_allocate(size_t rounded) {
  const size_t alignment = rounded >= kHugePage ? kHugePage : kAlignment;
  void* p = std::aligned_alloc(alignment, (rounded + alignment - 1) / alignment * alignment);
  if (p == nullptr) return nullptr;
  // Advice only: where huge pages are off (or the call fails) the block is still usable.
  if (rounded >= kHugePage) madvise(p, rounded, MADV_HUGEPAGE);
  return p;
}

class Cache {
 public:
  void* allocate(size_t bytes) {
    const size_t rounded = size_class(bytes == 0 ? 1 : bytes);
    if (rounded >= kCachedMinBytes) {
      std::lock_guard lock(mutex_);
      auto it = free_.find(rounded);
      if (it != free_.end() && !it->second.empty()) {
        const auto entry = it->second.back();
        it->second.pop_back();
        void* p = entry->p;
        lru_.erase(entry);
        stats_.cached_bytes -= rounded;
        ++stats_.cache_hits;
        note_allocated(rounded);
        return p;
      }
    }
    void* p = system_allocate(rounded);
    if (p == nullptr) {
      empty();  // cached blocks may be what stands between us and success
      p = system_allocate(rounded);
    }
    if (p == nullptr) fail("allocate: out of memory allocating {} bytes", bytes);
    std::lock_guard lock(mutex_);
    ++stats_.system_allocations;
    note_allocated(rounded);
    return p;
  }

  void free(void* p, size_t bytes) noexcept {
    const size_t rounded = size_class(bytes == 0 ? 1 : bytes);
    std::lock_guard lock(mutex_);
    stats_.allocated_bytes -= rounded;
    if (rounded < kCachedMinBytes || rounded > limit_) {
      std::free(p);
      return;
    }
    lru_.push_back({p, rounded});
    free_[rounded].push_back(std::prev(lru_.end()));
    stats_.cached_bytes += rounded;
    trim_to(limit_);
  }

  AllocatorStats stats() {
    std::lock_guard lock(mutex_);
    return stats_;
  }
  void reset_peak() {
    std::lock_guard lock(mutex_);
    stats_.peak_allocated_bytes = stats_.allocated_bytes;
  }
  void empty() {
    std::lock_guard lock(mutex_);
    trim_to(0);
  }
  void set_limit(size_t bytes) {
    std::lock_guard lock(mutex_);
    limit_ = bytes;
    trim_to(limit_);
  }
  size_t limit() {
    std::lock_guard lock(mutex_);
    return limit_;
  }

 private:
  struct Entry {
    void* p;
    size_t bytes;
  };

  void note_allocated(size_t rounded) {
    stats_.allocated_bytes += rounded;
    if (stats_.allocated_bytes > stats_.peak_allocated_bytes) stats_.peak_allocated_bytes = stats_.allocated_bytes;
  }

  // Frees the least recently cached blocks until at most `bytes` stay cached. Caller holds mutex_.
  void trim_to(size_t bytes) {
    while (stats_.cached_bytes > bytes && !lru_.empty()) {
      const Entry e = lru_.front();
      auto& bucket = free_[e.bytes];
      std::erase(bucket, lru_.begin());
      lru_.pop_front();
      stats_.cached_bytes -= e.bytes;
      std::free(e.p);
    }
  }

  std::mutex mutex_;
  std::list<Entry> lru_;  // cached blocks, oldest first
  std::unordered_map<size_t, std::vector<std::list<Entry>::iterator>> free_;  // size class -> blocks in lru_
  AllocatorStats stats_;
  size_t limit_ = limit_from_environment();
};

// Never destroyed: tensors held by other static objects may be freed after main returns, and
// must still find the cache (the blocks it holds at exit go back to the system with the process).
Cache& cache() {
  alignas(Cache) static unsigned char bytes[sizeof(Cache)];
  static Cache* const instance = ::new (bytes) Cache();
  return *instance;
}

}  // namespace

void* host_allocate(size_t bytes) { return cache().allocate(bytes); }
void host_free(void* p, size_t bytes) noexcept { cache().free(p, bytes); }
AllocatorStats allocator_stats() { return cache().stats(); }
void reset_peak_allocated() { cache().reset_peak(); }
void empty_cache() { cache().empty(); }
void set_cache_limit(size_t bytes) { cache().set_limit(bytes); }
size_t cache_limit() { return cache().limit(); }

}  // namespace dendrite
