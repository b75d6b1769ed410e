#include "dendrite/ops/creation.h"

#include <cmath>

#include "dendrite/core/strided_loop.h"
#include "dendrite/kernels/registry.h"

namespace dendrite {

using kernels::dispatch;
using kernels::OpId;

Tensor empty(const Shape& shape, DType dtype) { return TensorBase::empty(shape, dtype); }

Tensor full(const Shape& shape, Scalar value, DType dtype) {
  Tensor t = empty(shape, dtype);
  dispatch<OpId::fill>(dtype)(t, value);
  return t;
}

Tensor zeros(const Shape& shape, DType dtype) { return full(shape, 0, dtype); }
Tensor ones(const Shape& shape, DType dtype) { return full(shape, 1, dtype); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.dtype()); }

Tensor arange(Scalar start, Scalar end, Scalar step, DType dtype) {
  double s = start.to_double(), e = end.to_double(), d = step.to_double();
  DENDRITE_CHECK(d != 0, "arange: step must be non-zero");
  int64_t n = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((e - s) / d)));
  Tensor t = empty({n}, dtype);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data_ptr<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = convert<T>(s + static_cast<double>(i) * d);
  });
  return t;
}

Tensor uniform(const Shape& shape, double low, double high, DType dtype, Generator& gen) {
  Tensor t = empty(shape, dtype);
  fill_uniform(t, low, high, gen);
  return t;
}

Tensor rand(const Shape& shape, DType dtype, Generator& gen) { return uniform(shape, 0.0, 1.0, dtype, gen); }

Tensor normal(const Shape& shape, double mean, double stddev, DType dtype, Generator& gen) {
  Tensor t = empty(shape, dtype);
  fill_normal(t, mean, stddev, gen);
  return t;
}

Tensor randn(const Shape& shape, DType dtype, Generator& gen) { return normal(shape, 0.0, 1.0, dtype, gen); }

Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, Generator& gen) {
  DENDRITE_CHECK(low < high, "randint: empty range [{}, {})", low, high);
  Tensor t = empty(shape, dtype);
  const uint64_t span = static_cast<uint64_t>(high - low);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data_ptr<T>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = convert<T>(low + static_cast<int64_t>(gen.next_u64() % span));
  });
  return t;
}

template <typename T>
Tensor tensor(std::span<const T> values, Shape shape) {
  if (shape.empty() && values.size() != 1) shape = {static_cast<int64_t>(values.size())};
  DENDRITE_CHECK(numel(shape) == static_cast<int64_t>(values.size()),
                 "tensor: {} values do not fill shape {}", values.size(), to_string(shape));
  Tensor t = empty(shape, dtype_v<T>);
  std::copy(values.begin(), values.end(), t.data_ptr<T>());
  return t;
}

Tensor scalar_tensor(Scalar value, DType dtype) { return full({}, value, dtype); }

template <typename T>
std::vector<T> to_vector(const TensorBase& t) {
  std::vector<T> out;
  out.reserve(static_cast<size_t>(t.numel()));
  visit_dtype(t.dtype(), [&](auto tag) {
    using S = decltype(tag);
    const S* p = static_cast<const S*>(t.storage().data()) + t.offset();
    for_each_offset(t.shape(), {t.strides()}, [&](const int64_t* o) { out.push_back(convert<T>(p[o[0]])); });
  });
  return out;
}

#define DENDRITE_INSTANTIATE(T)                                 \
  template Tensor tensor<T>(std::span<const T>, Shape); \
  template std::vector<T> to_vector<T>(const TensorBase&);
DENDRITE_INSTANTIATE(float)
DENDRITE_INSTANTIATE(double)
DENDRITE_INSTANTIATE(bf16)
DENDRITE_INSTANTIATE(f16)
DENDRITE_INSTANTIATE(int8_t)
DENDRITE_INSTANTIATE(uint8_t)
DENDRITE_INSTANTIATE(int32_t)
DENDRITE_INSTANTIATE(int64_t)
#undef DENDRITE_INSTANTIATE

}  // namespace dendrite
