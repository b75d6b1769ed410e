// One thread setting for all compute. Our loops and oneDNN share OpenMP's pool, so setting the
// count here governs both and threads are never oversubscribed (DESIGN.md: spinning threads are
// the enemy on small machines).
#pragma once

#include <cstdint>
#include <functional>

namespace dendrite {

// Number of threads used by kernels; defaults to the number of cores OpenMP sees.
int num_threads();
// Sets the thread count for oneDNN and Dendrite's loops together; n >= 1.
void set_num_threads(int n);

// Sets the thread count for a scope and restores the previous one on the way out (also when an
// exception or a failed test assertion ends the scope early).
class ScopedThreads {
 public:
  explicit ScopedThreads(int n) : previous_(num_threads()) { set_num_threads(n); }
  ~ScopedThreads() { set_num_threads(previous_); }
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  int previous_;
};

// Work below this many elements runs on the calling thread: forking a team costs more than it saves.
inline constexpr int64_t kParallelGrain = 32768;

// Splits [begin, end) into contiguous chunks across the thread pool, or runs fn(begin, end) inline
// when the range is smaller than `grain`. fn must not throw (exceptions cannot cross OpenMP).
void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn);

}  // namespace dendrite
