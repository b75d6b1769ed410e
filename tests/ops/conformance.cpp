#include "conformance.h"

#include <utility>

namespace dendrite::testing {

std::vector<OpCase>& op_cases() {
  static std::vector<OpCase> cases;
  return cases;
}

RegisterOpCases::RegisterOpCases(std::vector<OpCase> cases) {
  for (OpCase& c : cases) op_cases().push_back(std::move(c));
}

Tensor CaseGen::normal(const Shape& shape, double stddev) { return dendrite::normal(shape, 0.0, stddev, dtype_, gen_); }

Tensor CaseGen::uniform(const Shape& shape, double low, double high) {
  return dendrite::uniform(shape, low, high, dtype_, gen_);
}

Tensor CaseGen::away_from_zero(const Shape& shape, double gap) {
  Tensor t = normal(shape);
  Tensor f64 = t.to(DType::f64).contiguous().clone();
  double* p = f64.data_ptr<double>();
  for (int64_t i = 0; i < f64.numel(); ++i) {
    if (p[i] > -gap && p[i] < gap) p[i] = p[i] >= 0 ? p[i] + gap : p[i] - gap;
  }
  return f64.to(dtype_).clone();
}

Tensor CaseGen::transposed(const Shape& shape) {
  Shape swapped = shape;
  std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);
  return normal(swapped).transpose(-1, -2);
}

Tensor CaseGen::channels_last(const Shape& shape) {
  return normal({shape[0], shape[2], shape[3], shape[1]}).permute({0, 3, 1, 2});
}

Tensor CaseGen::indices(const Shape& shape, int64_t bound, DType dtype) { return randint(0, bound, shape, dtype, gen_); }

int64_t CaseGen::dim(int64_t low, int64_t high) {
  return low + static_cast<int64_t>(gen_.next_u64() % static_cast<uint64_t>(high - low + 1));
}

}  // namespace dendrite::testing
