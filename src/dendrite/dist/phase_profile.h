// Where a rank's time goes, by phase, for benchmarks: with DENDRITE_DIST_PROFILE=1 in the
// environment a parameter-server worker (fetch, compute, push) and shard (receive, handle pushes,
// answer pulls, idle) print their totals to stderr at the end of a run. Off, add() costs a branch.
//
//   PhaseProfile profile({"fetch", "compute"});
//   auto t = profile.now();  ...  profile.add(0, t);
//   profile.report("worker", rank);
//
// Thread-safety: one thread per profile.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace dendrite::dist {

class PhaseProfile {
 public:
  using Clock = std::chrono::steady_clock;
  explicit PhaseProfile(std::vector<std::string> phases);

  static bool enabled();  // DENDRITE_DIST_PROFILE is set and not "0"
  Clock::time_point now() const { return on_ ? Clock::now() : Clock::time_point{}; }
  // Adds the time since `since` to `phase`; returns now, for chaining phases.
  Clock::time_point add(size_t phase, Clock::time_point since);
  // One line on stderr: "dist profile: worker rank 0: fetch 1.20 s (30 calls), ...".
  void report(const char* role, int rank) const;

 private:
  bool on_ = false;
  std::vector<std::string> phases_;
  std::vector<double> seconds_;
  std::vector<long> calls_;
};

}  // namespace dendrite::dist
