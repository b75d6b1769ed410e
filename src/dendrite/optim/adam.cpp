// Adam's and AdamW's fused update; the formulas and their PyTorch references are in adam.h.
#include "dendrite/optim/adam.h"

#include <algorithm>
#include <cmath>

#include "dendrite/optim/fused_loop.h"

namespace dendrite::optim {

namespace {

std::vector<std::string> adam_slots(const AdamOptions& o) {
  if (o.amsgrad) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"exp_avg", "exp_avg_sq"};
}

const AdamOptions& checked(const char* kind, const AdamOptions& o) {
  for (int k = 0; k < 2; ++k) {
    DENDRITE_CHECK(o.betas[k] >= 0.0 && o.betas[k] < 1.0, "{}: betas[{}] must be in [0, 1), got {}", kind, k,
                   o.betas[k]);
  }
  DENDRITE_CHECK(o.eps >= 0.0 && std::isfinite(o.eps), "{}: eps must be non-negative, got {}", kind, o.eps);
  DENDRITE_CHECK(o.weight_decay >= 0.0 && std::isfinite(o.weight_decay),
                 "{}: weight_decay must be non-negative, got {}", kind, o.weight_decay);
  return o;
}

AdamOptions as_adam(const AdamWOptions& o) {
  return {.lr = o.lr, .betas = o.betas, .eps = o.eps, .weight_decay = o.weight_decay, .amsgrad = o.amsgrad};
}

}  // namespace

Adam::Adam(nn::NamedTensors params, AdamOptions options) : Adam("Adam", std::move(params), options, false) {}

Adam::Adam(const char* kind, nn::NamedTensors params, AdamOptions options, bool decoupled)
    : Optimizer(kind, std::move(params), options.lr, adam_slots(checked(kind, options))),
      options_(options),
      decoupled_(decoupled) {}

AdamW::AdamW(nn::NamedTensors params, AdamWOptions options)
    : Adam("AdamW", std::move(params), as_adam(options), true) {}

void Adam::update(size_t index, const Tensor& grad, int64_t param_step) {
  const AdamOptions o = options_;
  const double lr = lr_;
  const double t = static_cast<double>(param_step);
  const double step_size = lr / (1.0 - std::pow(o.betas[0], t));
  const double bias2_sqrt = std::sqrt(1.0 - std::pow(o.betas[1], t));
  const bool coupled = !decoupled_ && o.weight_decay != 0.0;
  const bool decoupled = decoupled_ && o.weight_decay != 0.0;
  const bool amsgrad = o.amsgrad;
  std::vector<Tensor>& state = slots(index);
  // Without amsgrad the third pointer repeats exp_avg_sq and is never written through.
  std::array<Tensor, 3> s = {state[0], state[1], amsgrad ? state[2] : state[1]};
  detail::fused_update<3>(params_[index].second, grad, s, [&](auto* p, const auto* g, auto sp, int64_t n) {
    using T = std::remove_pointer_t<decltype(p)>;
    const T b1 = T(o.betas[0]), c1 = T(1.0 - o.betas[0]), b2 = T(o.betas[1]), c2 = T(1.0 - o.betas[1]);
    const T wd = T(o.weight_decay), shrink = T(1.0 - lr * o.weight_decay);
    const T neg_step = T(-step_size), bias2 = T(bias2_sqrt), eps = T(o.eps);
    T* m = sp[0];
    T* v = sp[1];
    T* vmax = sp[2];
    T root[detail::kBlock];
    for (int64_t start = 0; start < n; start += detail::kBlock) {
      const int64_t len = std::min(detail::kBlock, n - start);
      T* pb = p + start;
      const T* gb = g + start;
      T* mb = m + start;
      T* vb = v + start;
      T* xb = vmax + start;
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) {
        T param = pb[i];
        if (decoupled) param = param * shrink;
        pb[i] = param;
        const T d = coupled ? gb[i] + wd * param : gb[i];
        mb[i] = mb[i] * b1 + c1 * d;
        const T sq = vb[i] * b2 + c2 * d * d;
        vb[i] = sq;
        root[i] = sq;
      }
      if (amsgrad) {
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) {
          const T top = xb[i] > root[i] ? xb[i] : root[i];
          xb[i] = top;
          root[i] = top;
        }
      }
      detail::sqrt_inplace(root, len);
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) pb[i] = pb[i] + neg_step * mb[i] / (root[i] / bias2 + eps);
    }
  });
}

}  // namespace dendrite::optim
