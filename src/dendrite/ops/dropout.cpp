// Inverted dropout (Srivastava et al. 2014, scaled at training time so that evaluation is the
// identity). The mask is a constant tensor multiplied in, so mul's backward gives the gradient
// (g * mask) and dropout needs no backward of its own.
#include "dendrite/ops/dropout.h"

#include <cmath>
#include <type_traits>

#include "dendrite/core/threading.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/elementwise.h"

namespace dendrite {

namespace {

// Bernoulli(keep) draws in row-major order, each 0 or `scale`: one uniform per element, so a seeded
// generator gives the same mask on every platform and for any thread count. The block of numbers is
// reserved at once and read by index (Generator::skip), which lets threads fill it in parallel:
// drawn one call at a time, the mask cost 6 ns an element, more than the rest of a transformer's
// attention (elementwise_bench's dropout).
Tensor dropout_mask(const Shape& shape, DType dtype, double keep, double scale, Generator& gen) {
  Tensor mask = empty(shape, dtype);
  const int64_t n = mask.numel();
  const uint64_t base = gen.skip(static_cast<uint64_t>(n));
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, bf16> ||
                  std::is_same_v<T, f16>) {
      T* const p = mask.data_ptr<T>();
      const T kept = convert<T>(scale);
      // uniform = k * 2^-53 with k the draw's top 53 bits, and k * 2^-53 < keep exactly when
      // k < ceil(keep * 2^53): one integer compare, the same decision as the double one, and
      // branch-free (a branch on a 10% event mispredicted often enough to double the cost).
      const auto threshold = static_cast<uint64_t>(std::ceil(keep * 0x1.0p53));
      parallel_for(0, n, kParallelGrain, [p, kept, threshold, base](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) {
          const bool keep_it = (Generator::at(base, static_cast<uint64_t>(i)) >> 11) < threshold;
          if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
            p[i] = static_cast<T>(keep_it) * kept;  // a multiply, where GCC made `?:` a branch
          } else {
            p[i] = keep_it ? kept : T{};  // T{} is +0
          }
        }
      });
    }
  });
  return mask;
}

}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  DENDRITE_CHECK(p >= 0.0 && p <= 1.0, "dropout: probability must be in [0, 1], got {}", p);
  if (!training || p == 0.0) return x;
  DENDRITE_CHECK(is_floating(x.dtype()), "dropout: needs a floating-point tensor, got {}", describe(x));
  // p == 1 drops everything; no draws are needed and 1 / (1 - p) would be infinite.
  if (p == 1.0) return x * zeros(x.shape(), x.dtype());
  return x * dropout_mask(x.shape(), x.dtype(), 1.0 - p, 1.0 / (1.0 - p), gen);
}

}  // namespace dendrite
