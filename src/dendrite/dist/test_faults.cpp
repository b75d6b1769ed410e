#include "dendrite/dist/test_faults.h"

#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>

#include "dendrite/core/error.h"

namespace dendrite::dist {

TestFaults::TestFaults(int rank, const Options& options) {
  if (rank == options.slow_rank) extra_ = options.slow_factor - 1.0;
  if (const char* kill = std::getenv("DENDRITE_DIST_TEST_KILL")) {
    const std::string spec = kill;
    const size_t colon = spec.find(':');
    DENDRITE_CHECK(colon != std::string::npos, "DENDRITE_DIST_TEST_KILL: expected RANK:STEP, got '{}'", spec);
    if (std::stoi(spec.substr(0, colon)) == rank) kill_after_ = std::stoll(spec.substr(colon + 1));
  }
}

void TestFaults::begin() {
  if (extra_ > 0 && !started_) {
    start_ = std::chrono::steady_clock::now();
    started_ = true;
  }
}

void TestFaults::end(int64_t step) {
  if (extra_ > 0) {
    // The whole step since the last one ended (fetch, compute, the previous push), not the
    // compute alone: a slow machine is slow at all of it.
    const auto took = std::chrono::steady_clock::now() - start_;
    std::this_thread::sleep_for(std::chrono::duration_cast<std::chrono::microseconds>(took * extra_));
    start_ = std::chrono::steady_clock::now();
  }
  if (kill_after_ >= 0 && step == kill_after_) std::raise(SIGKILL);
}

}  // namespace dendrite::dist
