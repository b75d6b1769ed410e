// Deterministic random numbers. A Generator is a counter-based stream (SplitMix64 over a
// seed-derived counter, Steele et al. 2014), so the same seed gives the same numbers on every
// platform and compiler: std::normal_distribution is not specified bit-for-bit, so we do our own
// Box-Muller transform.
#pragma once

#include <cstdint>

#include "dendrite/core/tensor_base.h"

namespace dendrite {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eed) : state_(seed) {}
  void seed(uint64_t seed) { state_ = seed; }
  uint64_t next_u64();
  double uniform();  // [0, 1), 53 random bits
  double normal();   // standard normal

  // The whole state, so a generator can be checkpointed and restored.
  uint64_t state() const { return state_; }
  void set_state(uint64_t state) { state_ = state; }

 private:
  uint64_t state_;
};

// The process-wide default generator used when a call does not pass one (PyTorch's
// torch.manual_seed). Not thread-safe: pass your own Generator when threads draw numbers.
Generator& default_generator();
void manual_seed(uint64_t seed);

// Fill a floating-point tensor (any strides) in index order.
void fill_uniform(const TensorBase& t, double low, double high, Generator& gen);
void fill_normal(const TensorBase& t, double mean, double stddev, Generator& gen);

}  // namespace dendrite
