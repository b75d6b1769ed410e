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

  // Reserves the stream's next n numbers as a block and returns where the block starts: number k
  // of the block (k < n) is at(base, k), the value the (k+1)-th next_u64() would have returned.
  // A counter-based stream can be read at any index, so a block can be drawn by several threads and
  // in any order with the same bits as drawing it one number at a time.
  uint64_t skip(uint64_t n) {
    const uint64_t base = state_;
    state_ += n * kGamma;
    return base;
  }
  static uint64_t at(uint64_t base, uint64_t k) { return mix(base + (k + 1) * kGamma); }
  static double uniform_at(uint64_t base, uint64_t k) { return static_cast<double>(at(base, k) >> 11) * 0x1.0p-53; }

  // The whole state, so a generator can be checkpointed and restored.
  uint64_t state() const { return state_; }
  void set_state(uint64_t state) { state_ = state; }

 private:
  static constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ULL;  // SplitMix64's counter increment
  static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

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
