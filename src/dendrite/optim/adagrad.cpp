// Adagrad's fused update; the formula and its PyTorch reference are in adagrad.h.
#include "dendrite/optim/adagrad.h"

#include <algorithm>
#include <cmath>

#include "dendrite/optim/fused_loop.h"

namespace dendrite::optim {

namespace {

const AdagradOptions& checked(const AdagradOptions& o) {
  auto non_negative = [](const char* what, double v) {
    DENDRITE_CHECK(v >= 0.0 && std::isfinite(v), "Adagrad: {} must be non-negative, got {}", what, v);
  };
  non_negative("lr_decay", o.lr_decay);
  non_negative("weight_decay", o.weight_decay);
  non_negative("initial_accumulator_value", o.initial_accumulator_value);
  non_negative("eps", o.eps);
  return o;
}

}  // namespace

Adagrad::Adagrad(nn::NamedTensors params, AdagradOptions options)
    : Optimizer("Adagrad", std::move(params), options.lr, {"sum"}), options_(checked(options)) {
  if (options_.initial_accumulator_value != 0.0) fill_slot(0, options_.initial_accumulator_value);
}

void Adagrad::update(size_t index, const Tensor& grad, int64_t param_step) {
  const AdagradOptions o = options_;
  const double clr = lr_ / (1.0 + static_cast<double>(param_step - 1) * o.lr_decay);
  const bool decay = o.weight_decay != 0.0;
  detail::fused_update<1>(params_[index].second, grad, {slots(index)[0]},
                          [&](auto* p, const auto* g, auto s, int64_t n) {
                            using T = std::remove_pointer_t<decltype(p)>;
                            const T neg_clr = T(-clr), wd = T(o.weight_decay), eps = T(o.eps);
                            T* sum = s[0];
                            T root[detail::kBlock];
                            for (int64_t start = 0; start < n; start += detail::kBlock) {
                              const int64_t len = std::min(detail::kBlock, n - start);
                              T* pb = p + start;
                              const T* gb = g + start;
                              T* sb = sum + start;
#pragma omp simd
                              for (int64_t i = 0; i < len; ++i) {
                                const T d = decay ? gb[i] + wd * pb[i] : gb[i];
                                const T acc = sb[i] + d * d;
                                sb[i] = acc;
                                root[i] = acc;
                              }
                              detail::sqrt_inplace(root, len);
#pragma omp simd
                              for (int64_t i = 0; i < len; ++i) {
                                const T d = decay ? gb[i] + wd * pb[i] : gb[i];
                                pb[i] = pb[i] + neg_clr * d / (root[i] + eps);
                              }
                            }
                          });
}

}  // namespace dendrite::optim
