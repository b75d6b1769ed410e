// Shared by the Google Benchmark programs in bench/: a thread count for one benchmark run.
#pragma once

#include <cstdint>

#include "dendrite/core/threading.h"

namespace dendrite::bench {

// Sets the thread count for one benchmark run (dendrite::set_num_threads) and restores it afterwards.
class Threads {
 public:
  explicit Threads(int64_t n) : previous_(num_threads()) { set_num_threads(static_cast<int>(n)); }
  ~Threads() { set_num_threads(previous_); }
  Threads(const Threads&) = delete;
  Threads& operator=(const Threads&) = delete;

 private:
  int previous_;
};

}  // namespace dendrite::bench
