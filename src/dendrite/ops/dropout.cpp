// Inverted dropout (Srivastava et al. 2014, scaled at training time so that evaluation is the
// identity). The mask is a constant tensor multiplied in, so mul's backward gives the gradient
// (g * mask) and dropout needs no backward of its own.
#include "dendrite/ops/dropout.h"

#include <type_traits>

#include "dendrite/ops/creation.h"
#include "dendrite/ops/elementwise.h"

namespace dendrite {

namespace {

// Bernoulli(keep) draws in row-major order, each 0 or `scale`: one uniform per element, so a seeded
// generator gives the same mask on every platform.
Tensor dropout_mask(const Shape& shape, DType dtype, double keep, double scale, Generator& gen) {
  Tensor mask = empty(shape, dtype);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, bf16> ||
                  std::is_same_v<T, f16>) {
      T* p = mask.data_ptr<T>();
      const T kept = convert<T>(scale), dropped = convert<T>(0.0);
      for (int64_t i = 0; i < mask.numel(); ++i) p[i] = gen.uniform() < keep ? kept : dropped;
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
