#include "dendrite/dist/poll.h"

#include <thread>

#include "dendrite/dist/communicator.h"

namespace dendrite::dist {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Backoff::pause() {
  // The first polls only yield: a collective between ranks on idle cores often completes within
  // microseconds to a millisecond, and a sleep would add the scheduler's wake-up latency (and, at
  // a 1 ms cap, up to a millisecond of overshoot) to every bucket of every step. W6 (2 ranks x 1
  // thread, idle machine, bench/dist_bench.py --only w6): 16 yields and a 1 ms cap gave 29.8k
  // samples/s, 256 yields and a 200 us cap 40.4k. A yield gives the core to any rank that needs it,
  // so oversubscribed runs lose nothing to the longer yielding.
  constexpr int kYields = 256;
  if (polls_++ < kYields) {
    std::this_thread::yield();
    return;
  }
  std::this_thread::sleep_for(sleep_);
  sleep_ = std::min(cap_, sleep_ * 2);
}

double poll_until(const std::function<bool()>& done, double timeout_seconds,
                  const std::function<std::string(double)>& report) {
  const auto start = std::chrono::steady_clock::now();
  Backoff backoff;
  while (!done()) {
    const double waited = seconds_since(start);
    if (timeout_seconds > 0 && waited > timeout_seconds) throw DeadlineExceeded(report(waited));
    backoff.pause();
  }
  return seconds_since(start);
}

}  // namespace dendrite::dist
