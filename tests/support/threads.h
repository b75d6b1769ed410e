// Sets the compute thread count for a test's scope and restores the previous one, also when an
// assertion ends the test early.
#pragma once

#include "dendrite/core/threading.h"

namespace dendrite::test_support {

class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(num_threads()) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_;
};

}  // namespace dendrite::test_support
