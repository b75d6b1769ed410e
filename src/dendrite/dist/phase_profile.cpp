#include "dendrite/dist/phase_profile.h"

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>
#include <string_view>

namespace dendrite::dist {

PhaseProfile::PhaseProfile(std::vector<std::string> phases)
    : on_(enabled()), phases_(std::move(phases)), seconds_(phases_.size(), 0.0), calls_(phases_.size(), 0) {}

bool PhaseProfile::enabled() {
  const char* v = std::getenv("DENDRITE_DIST_PROFILE");
  return v != nullptr && std::string_view(v) != "0" && std::string_view(v) != "";
}

PhaseProfile::Clock::time_point PhaseProfile::add(size_t phase, Clock::time_point since) {
  if (!on_) return since;
  const Clock::time_point t = Clock::now();
  seconds_.at(phase) += std::chrono::duration<double>(t - since).count();
  ++calls_.at(phase);
  return t;
}

void PhaseProfile::report(const char* role, int rank) const {
  if (!on_) return;
  std::string line = fmt::format("dist profile: {} rank {}:", role, rank);
  for (size_t k = 0; k < phases_.size(); ++k)
    line += fmt::format("{} {} {:.3f} s ({} calls)", k ? "," : "", phases_[k], seconds_[k], calls_[k]);
  std::cerr << line + "\n";
}

}  // namespace dendrite::dist
