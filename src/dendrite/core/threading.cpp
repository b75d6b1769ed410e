#include "dendrite/core/threading.h"

#include <omp.h>

#include <algorithm>

#include "dendrite/core/error.h"

namespace dendrite {

int num_threads() { return omp_get_max_threads(); }

void set_num_threads(int n) {
  DENDRITE_CHECK(n >= 1, "set_num_threads: thread count must be at least 1, got {}", n);
  omp_set_num_threads(n);
}

void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn) {
  int64_t n = end - begin;
  if (n <= 0) return;
  const int64_t g = std::max<int64_t>(grain, 1);
  int threads = omp_in_parallel() ? 1 : num_threads();
  if (threads <= 1 || n < g) {
    fn(begin, end);
    return;
  }
  int64_t chunks = std::min<int64_t>(threads, (n + g - 1) / g);
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    int64_t lo = begin + n * c / chunks;
    int64_t hi = begin + n * (c + 1) / chunks;
    fn(lo, hi);
  }
}

}  // namespace dendrite
