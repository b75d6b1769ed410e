// Reference batch normalisation, in double, one channel at a time, straight from the definitions
// in Ioffe & Szegedy 2015 (algorithm 1 and the gradients of section 3). With M = N * S values per
// channel and xhat = (x - mean) * invstd:
//   gbias[c]   = sum gy
//   gweight[c] = sum gy * xhat
//   gx         = weight * invstd * (gy - gbias / M - xhat * gweight / M)   (batch statistics)
//   gx         = weight * invstd * gy                                     (fixed statistics)
#include <algorithm>
#include <cmath>
#include <vector>

#include "dendrite/core/memory_format.h"
#include "dendrite/kernels/reference/reference.h"

namespace dendrite::kernels::reference {

namespace {

template <typename T>
T* data(const TensorBase& t) {
  return static_cast<T*>(t.storage().data()) + t.offset();
}

// x read as [N, C, S] (the kernel contract: contiguous, or channels-last with S = H * W).
struct ChannelLayout {
  int64_t n, c, s;
  bool channels_last;
  explicit ChannelLayout(const TensorBase& x)
      : n(x.shape()[0]),
        c(x.shape()[1]),
        s(x.numel() / std::max<int64_t>(1, n * c)),
        channels_last(memory_format_of(x) == MemoryFormat::channels_last) {}
  int64_t at(int64_t in, int64_t ic, int64_t is) const {
    return channels_last ? (in * s + is) * c + ic : (in * c + ic) * s + is;
  }
};

template <typename D>
double param(const TensorBase& p, int64_t c, double absent) {
  return p.defined() ? convert<double>(data<D>(p)[c]) : absent;
}

template <typename D>
void stats_typed(const TensorBase& x, const TensorBase& mean, const TensorBase& var) {
  const ChannelLayout l(x);
  const D* px = data<D>(x);
  const double m = static_cast<double>(l.n * l.s);
  for (int64_t c = 0; c < l.c; ++c) {
    double sum = 0.0;
    for (int64_t n = 0; n < l.n; ++n)
      for (int64_t s = 0; s < l.s; ++s) sum += convert<double>(px[l.at(n, c, s)]);
    const double mu = sum / m;
    double sq = 0.0;
    for (int64_t n = 0; n < l.n; ++n)
      for (int64_t s = 0; s < l.s; ++s) {
        const double d = convert<double>(px[l.at(n, c, s)]) - mu;
        sq += d * d;
      }
    data<D>(mean)[c] = convert<D>(mu);
    data<D>(var)[c] = convert<D>(sq / m);
  }
}

template <typename D>
void forward_typed(const TensorBase& x, const TensorBase& mean, const TensorBase& var, const TensorBase& weight,
                   const TensorBase& bias, double eps, const TensorBase& y) {
  const ChannelLayout l(x);
  const D* px = data<D>(x);
  D* py = data<D>(y);
  for (int64_t c = 0; c < l.c; ++c) {
    const double mu = param<D>(mean, c, 0.0);
    const double invstd = 1.0 / std::sqrt(param<D>(var, c, 1.0) + eps);
    const double w = param<D>(weight, c, 1.0), b = param<D>(bias, c, 0.0);
    for (int64_t n = 0; n < l.n; ++n)
      for (int64_t s = 0; s < l.s; ++s) {
        const int64_t i = l.at(n, c, s);
        py[i] = convert<D>((convert<double>(px[i]) - mu) * invstd * w + b);
      }
  }
}

template <typename D>
void backward_typed(const TensorBase& x, const TensorBase& gy, const TensorBase& mean, const TensorBase& var,
                    const TensorBase& weight, double eps, bool batch_stats, const TensorBase& gx,
                    const TensorBase& gweight, const TensorBase& gbias) {
  const ChannelLayout l(x);
  const D* px = data<D>(x);
  const D* pgy = data<D>(gy);
  const double m = static_cast<double>(l.n * l.s);
  for (int64_t c = 0; c < l.c; ++c) {
    const double mu = param<D>(mean, c, 0.0);
    const double invstd = 1.0 / std::sqrt(param<D>(var, c, 1.0) + eps);
    const double w = param<D>(weight, c, 1.0);
    double sum_gy = 0.0, sum_gy_xhat = 0.0;
    for (int64_t n = 0; n < l.n; ++n)
      for (int64_t s = 0; s < l.s; ++s) {
        const int64_t i = l.at(n, c, s);
        const double g = convert<double>(pgy[i]);
        sum_gy += g;
        sum_gy_xhat += g * (convert<double>(px[i]) - mu) * invstd;
      }
    if (gbias.defined()) data<D>(gbias)[c] = convert<D>(sum_gy);
    if (gweight.defined()) data<D>(gweight)[c] = convert<D>(sum_gy_xhat);
    if (!gx.defined()) continue;
    for (int64_t n = 0; n < l.n; ++n)
      for (int64_t s = 0; s < l.s; ++s) {
        const int64_t i = l.at(n, c, s);
        double g = convert<double>(pgy[i]);
        if (batch_stats) {
          const double xhat = (convert<double>(px[i]) - mu) * invstd;
          g -= sum_gy / m + xhat * sum_gy_xhat / m;
        }
        data<D>(gx)[i] = convert<D>(w * invstd * g);
      }
  }
}

void stats(const TensorBase& x, const TensorBase& mean, const TensorBase& var) {
  visit_dtype(x.dtype(), [&](auto tag) { stats_typed<decltype(tag)>(x, mean, var); });
}

void forward(const TensorBase& x, const TensorBase& mean, const TensorBase& var, const TensorBase& weight,
             const TensorBase& bias, double eps, const TensorBase& y) {
  visit_dtype(x.dtype(), [&](auto tag) { forward_typed<decltype(tag)>(x, mean, var, weight, bias, eps, y); });
}

void backward(const TensorBase& x, const TensorBase& gy, const TensorBase& mean, const TensorBase& var,
              const TensorBase& weight, double eps, bool batch_stats, const TensorBase& gx, const TensorBase& gweight,
              const TensorBase& gbias) {
  visit_dtype(x.dtype(), [&](auto tag) {
    backward_typed<decltype(tag)>(x, gy, mean, var, weight, eps, batch_stats, gx, gweight, gbias);
  });
}

}  // namespace

void register_normalization(Registry& registry) {
  auto floating = {DType::f32, DType::f64, DType::bf16, DType::f16};
  registry.add<OpId::batch_norm_stats>(Backend::reference, floating, stats);
  registry.add<OpId::batch_norm_forward>(Backend::reference, floating, forward);
  registry.add<OpId::batch_norm_backward>(Backend::reference, floating, backward);
}

}  // namespace dendrite::kernels::reference
