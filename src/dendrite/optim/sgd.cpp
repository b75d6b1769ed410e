// SGD's fused update; the formula and its PyTorch reference are in sgd.h.
#include "dendrite/optim/sgd.h"

#include <cmath>

#include "dendrite/optim/fused_loop.h"

namespace dendrite::optim {

namespace {

std::vector<std::string> sgd_slots(const SGDOptions& o) {
  if (o.momentum != 0.0) return {"momentum_buffer"};
  return {};
}

const SGDOptions& checked(const SGDOptions& o) {
  DENDRITE_CHECK(o.momentum >= 0.0 && std::isfinite(o.momentum), "SGD: momentum must be non-negative, got {}",
                 o.momentum);
  DENDRITE_CHECK(std::isfinite(o.dampening), "SGD: dampening must be a finite number, got {}", o.dampening);
  DENDRITE_CHECK(o.weight_decay >= 0.0 && std::isfinite(o.weight_decay),
                 "SGD: weight_decay must be non-negative, got {}", o.weight_decay);
  DENDRITE_CHECK(!o.nesterov || (o.momentum > 0.0 && o.dampening == 0.0),
                 "SGD: nesterov requires momentum > 0 and dampening = 0, got momentum {} and dampening {}", o.momentum,
                 o.dampening);
  return o;
}

}  // namespace

SGD::SGD(nn::NamedTensors params, SGDOptions options)
    : Optimizer("SGD", std::move(params), options.lr, sgd_slots(checked(options))), options_(options) {}

void SGD::update(size_t index, const Tensor& grad, int64_t param_step) {
  const Tensor& param = params_[index].second;
  const double lr = lr_;
  const SGDOptions o = options_;
  const bool decay = o.weight_decay != 0.0;
  if (o.momentum == 0.0) {
    detail::fused_update<0>(param, grad, {}, [&](auto* p, const auto* g, auto, int64_t n) {
      using T = std::remove_pointer_t<decltype(p)>;
      const T neg_lr = T(-lr), wd = T(o.weight_decay);
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const T d = decay ? g[i] + wd * p[i] : g[i];
        p[i] = p[i] + neg_lr * d;
      }
    });
    return;
  }
  const bool first = param_step == 1;  // PyTorch starts the buffer at d rather than at zero
  detail::fused_update<1>(param, grad, {slots(index)[0]}, [&](auto* p, const auto* g, auto s, int64_t n) {
    using T = std::remove_pointer_t<decltype(p)>;
    const T neg_lr = T(-lr), wd = T(o.weight_decay), mom = T(o.momentum), keep = T(1.0 - o.dampening);
    T* buf = s[0];
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
      const T d = decay ? g[i] + wd * p[i] : g[i];
      const T b = first ? d : buf[i] * mom + keep * d;
      buf[i] = b;
      p[i] = p[i] + neg_lr * (o.nesterov ? d + mom * b : b);
    }
  });
}

}  // namespace dendrite::optim
