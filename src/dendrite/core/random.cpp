#include "dendrite/core/random.h"

#include <cmath>
#include <numbers>

#include "dendrite/core/strided_loop.h"

namespace dendrite {

uint64_t Generator::next_u64() { return mix(state_ += kGamma); }

double Generator::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Generator::normal() {
  double u1 = 1.0 - uniform();  // (0, 1], so log is finite
  double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

Generator& default_generator() {
  static Generator gen;
  return gen;
}

void manual_seed(uint64_t seed) { default_generator().seed(seed); }

namespace {
template <typename Draw>
void fill_with(const char* op, const TensorBase& t, Draw draw) {
  DENDRITE_CHECK(is_floating(t.dtype()), "{}: needs a floating-point tensor, got {}", op, describe(t));
  visit_dtype(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, bf16> ||
                  std::is_same_v<T, f16>) {
      for_each_offset(t.shape(), {t.strides()}, [&](const int64_t* offsets) {
        static_cast<T*>(t.raw_data())[offsets[0]] = convert<T>(draw());
      });
    }
  });
}
}  // namespace

void fill_uniform(const TensorBase& t, double low, double high, Generator& gen) {
  DENDRITE_CHECK(low <= high, "uniform: low {} exceeds high {}", low, high);
  fill_with("uniform", t, [&] { return low + (high - low) * gen.uniform(); });
}

void fill_normal(const TensorBase& t, double mean, double stddev, Generator& gen) {
  DENDRITE_CHECK(stddev >= 0, "normal: standard deviation must be non-negative, got {}", stddev);
  fill_with("normal", t, [&] { return mean + stddev * gen.normal(); });
}

}  // namespace dendrite
