// Waiting without spinning. MPI's own blocking calls poll at full speed, which starves the other
// ranks when they outnumber the cores (DESIGN.md); every wait in this layer instead tests for
// completion and sleeps between tests, the pause growing from a few microseconds to a cap, so a
// quick operation is noticed quickly and a long wait costs almost no CPU.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace dendrite::dist {

// A growing pause between polls: yield 256 times, then sleep 20 us, doubling up to `cap`.
class Backoff {
 public:
  explicit Backoff(std::chrono::microseconds cap = std::chrono::microseconds(200)) : cap_(cap) {}
  void pause();
  void reset() { polls_ = 0, sleep_ = std::chrono::microseconds(20); }

 private:
  std::chrono::microseconds cap_;
  std::chrono::microseconds sleep_{20};
  int polls_ = 0;
};

// Calls done() until it returns true and returns the seconds waited; when `timeout_seconds` pass
// first, throws DeadlineExceeded with report(seconds waited) as its message. timeout <= 0: no
// deadline.
double poll_until(const std::function<bool()>& done, double timeout_seconds,
                  const std::function<std::string(double)>& report);

double seconds_since(std::chrono::steady_clock::time_point start);

}  // namespace dendrite::dist
