// Global-norm gradient clipping; see clip.h.
#include "dendrite/optim/clip.h"

#include <algorithm>
#include <cmath>

#include "dendrite/autograd/autograd.h"
#include "dendrite/core/threading.h"
#include "dendrite/ops/elementwise.h"

namespace dendrite::optim {

namespace {

// Partial sums over blocks of this many elements, added in block order: the grouping of the sum
// depends only on the tensor's size, never on how the blocks were shared among threads.
constexpr int64_t kSumBlock = 4096;

template <typename T>
double sum_of_squares(const T* x, int64_t n) {
  const int64_t blocks = (n + kSumBlock - 1) / kSumBlock;
  std::vector<double> partial(static_cast<size_t>(blocks), 0.0);
  parallel_for(0, blocks, std::max<int64_t>(1, kParallelGrain / kSumBlock), [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      const T* xb = x + b * kSumBlock;
      const int64_t len = std::min(kSumBlock, n - b * kSumBlock);
      double acc = 0.0;
#pragma omp simd reduction(+ : acc)
      for (int64_t i = 0; i < len; ++i) acc += static_cast<double>(xb[i]) * static_cast<double>(xb[i]);
      partial[static_cast<size_t>(b)] = acc;
    }
  });
  double total = 0.0;
  for (double v : partial) total += v;
  return total;
}

double sum_of_squares(const Tensor& g) {
  Tensor x = g.dtype() == DType::f32 || g.dtype() == DType::f64 ? g : g.to(DType::f64);
  x = x.contiguous();
  if (x.dtype() == DType::f64) return sum_of_squares(x.data_ptr<double>(), x.numel());
  return sum_of_squares(x.data_ptr<float>(), x.numel());
}

double global_norm(const char* op, const std::vector<Tensor>& params) {
  autograd::NoGradGuard no_grad;
  double total = 0.0;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    DENDRITE_CHECK(p.defined(), "{}: parameter {} is an undefined tensor", op, i);
    Tensor g = p.grad();
    if (g.defined()) total += sum_of_squares(g);
  }
  return std::sqrt(total);
}

}  // namespace

double grad_norm(const std::vector<Tensor>& params) { return global_norm("grad_norm", params); }

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm) {
  DENDRITE_CHECK(max_norm > 0.0, "clip_grad_norm_: max_norm must be positive, got {}", max_norm);
  const double norm = global_norm("clip_grad_norm_", params);
  const double coef = max_norm / (norm + 1e-6);
  if (std::isfinite(norm) && coef < 1.0) {
    autograd::NoGradGuard no_grad;
    for (const Tensor& p : params) {
      Tensor g = p.grad();
      if (g.defined()) mul_(g, coef);
    }
  }
  return norm;
}

double clip_grad_norm_(const nn::NamedTensors& params, double max_norm) {
  std::vector<Tensor> tensors;
  tensors.reserve(params.size());
  for (const auto& [name, p] : params) tensors.push_back(p);
  return clip_grad_norm_(tensors, max_norm);
}

}  // namespace dendrite::optim
