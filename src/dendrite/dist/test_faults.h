// Faults injected on purpose, for tests and benchmarks only (never needed to train):
//
//   straggler   --slow-rank R --slow-factor F: after each step, worker R sleeps F - 1 times the
//               time the step took since the previous one ended (fetch and compute included), so
//               its steps take F times as long (a slow machine). Parameter-server workers, and
//               allreduce ranks (which sleep as their next step begins, so the others wait for
//               them in that step's all-reduce).
//   kill        the environment variable DENDRITE_DIST_TEST_KILL="RANK:STEP" makes that rank
//               SIGKILL itself right after its STEP-th step (a crashed machine), so that a test
//               can check that the job ends and that --resume continues it.
//
// Thread-safety: the training thread only.
#pragma once

#include <chrono>
#include <cstdint>

#include "dendrite/dist/options.h"

namespace dendrite::dist {

class TestFaults {
 public:
  TestFaults() = default;  // none
  TestFaults(int rank, const Options& options);
  // Around one training step: begin() when it starts, end(step) when it is over (`step`: steps
  // done so far on this rank).
  void begin();
  void end(int64_t step);

 private:
  double extra_ = 0.0;  // slow_factor - 1 on the slow rank, else 0
  int64_t kill_after_ = -1;
  std::chrono::steady_clock::time_point start_{};
  bool started_ = false;
};

}  // namespace dendrite::dist
