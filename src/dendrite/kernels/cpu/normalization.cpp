// cpu batch normalisation for f32: threads split the channels, and each channel's values are walked
// as N runs of S contiguous floats (x is [N, C, S]). Per run the sums are kept in float (at most S
// roundings, and S is an image plane) and then added into double, so the statistics of a large
// batch do not drift. The variance comes from one pass of shifted sums: with k the channel's first
// value, var = E[(x-k)^2] - E[x-k]^2, which avoids the cancellation of the plain E[x^2] - E[x]^2
// when |mean| is large against the spread (Chan, Golub & LeVeque 1983, "Algorithms for computing
// the sample variance"). Formulas as in the reference kernel (reference/normalization.cpp).
#include <algorithm>
#include <cmath>

#include "dendrite/core/threading.h"
#include "dendrite/kernels/cpu/cpu.h"

namespace dendrite::kernels::cpu {

namespace {

struct Layout {
  int64_t n, c, s;
  explicit Layout(const TensorBase& x)
      : n(x.shape()[0]), c(x.shape()[1]), s(x.numel() / std::max<int64_t>(1, x.shape()[0] * x.shape()[1])) {}
  // Channels per task so that a task has about kParallelGrain values.
  int64_t channel_grain() const { return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, n * s)); }
};

const float* cdata(const TensorBase& t) { return static_cast<const float*>(t.storage().data()) + t.offset(); }
float* mdata(const TensorBase& t) { return static_cast<float*>(t.storage().data()) + t.offset(); }
float param(const TensorBase& p, int64_t c, float absent) { return p.defined() ? cdata(p)[c] : absent; }

void stats(const TensorBase& x, const TensorBase& mean, const TensorBase& var) {
  const Layout l(x);
  const float* px = cdata(x);
  float* pmean = mdata(mean);
  float* pvar = mdata(var);
  const double m = static_cast<double>(l.n * l.s);
  parallel_for(0, l.c, l.channel_grain(), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float k = px[c * l.s];
      double s1 = 0.0, s2 = 0.0;
      for (int64_t n = 0; n < l.n; ++n) {
        const float* row = px + (n * l.c + c) * l.s;
        float a = 0.0f, b = 0.0f;
#pragma omp simd reduction(+ : a, b)
        for (int64_t i = 0; i < l.s; ++i) {
          const float d = row[i] - k;
          a += d;
          b += d * d;
        }
        s1 += a;
        s2 += b;
      }
      const double shifted_mean = s1 / m;
      pmean[c] = static_cast<float>(k + shifted_mean);
      pvar[c] = static_cast<float>(std::max(0.0, s2 / m - shifted_mean * shifted_mean));
    }
  });
}

void forward(const TensorBase& x, const TensorBase& mean, const TensorBase& var, const TensorBase& weight,
             const TensorBase& bias, double eps, const TensorBase& y) {
  const Layout l(x);
  const float* px = cdata(x);
  float* py = mdata(y);
  parallel_for(0, l.c, l.channel_grain(), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const double invstd = 1.0 / std::sqrt(static_cast<double>(cdata(var)[c]) + eps);
      const auto scale = static_cast<float>(param(weight, c, 1.0f) * invstd);
      const float shift = param(bias, c, 0.0f) - cdata(mean)[c] * scale;
      for (int64_t n = 0; n < l.n; ++n) {
        const float* in = px + (n * l.c + c) * l.s;
        float* out = py + (n * l.c + c) * l.s;
#pragma omp simd
        for (int64_t i = 0; i < l.s; ++i) out[i] = in[i] * scale + shift;
      }
    }
  });
}

void backward(const TensorBase& x, const TensorBase& gy, const TensorBase& mean, const TensorBase& var,
              const TensorBase& weight, double eps, bool batch_stats, const TensorBase& gx, const TensorBase& gweight,
              const TensorBase& gbias) {
  const Layout l(x);
  const float* px = cdata(x);
  const float* pgy = cdata(gy);
  const double m = static_cast<double>(l.n * l.s);
  parallel_for(0, l.c, l.channel_grain(), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float mu = cdata(mean)[c];
      const double invstd = 1.0 / std::sqrt(static_cast<double>(cdata(var)[c]) + eps);
      double sum_gy = 0.0, sum_gy_xmu = 0.0;
      for (int64_t n = 0; n < l.n; ++n) {
        const float* xr = px + (n * l.c + c) * l.s;
        const float* gr = pgy + (n * l.c + c) * l.s;
        float a = 0.0f, b = 0.0f;
#pragma omp simd reduction(+ : a, b)
        for (int64_t i = 0; i < l.s; ++i) {
          a += gr[i];
          b += gr[i] * (xr[i] - mu);
        }
        sum_gy += a;
        sum_gy_xmu += b;
      }
      if (gbias.defined()) mdata(gbias)[c] = static_cast<float>(sum_gy);
      if (gweight.defined()) mdata(gweight)[c] = static_cast<float>(sum_gy_xmu * invstd);
      if (!gx.defined()) continue;
      // gx = k1 * gy - k2 * (x - mu) - k3, the reference formula with xhat expanded.
      const double w = param(weight, c, 1.0f);
      const auto k1 = static_cast<float>(w * invstd);
      const auto k2 = batch_stats ? static_cast<float>(w * invstd * invstd * invstd * sum_gy_xmu / m) : 0.0f;
      const auto k3 = batch_stats ? static_cast<float>(w * invstd * sum_gy / m) : 0.0f;
      for (int64_t n = 0; n < l.n; ++n) {
        const float* xr = px + (n * l.c + c) * l.s;
        const float* gr = pgy + (n * l.c + c) * l.s;
        float* out = mdata(gx) + (n * l.c + c) * l.s;
#pragma omp simd
        for (int64_t i = 0; i < l.s; ++i) out[i] = k1 * gr[i] - k2 * (xr[i] - mu) - k3;
      }
    }
  });
}

}  // namespace

void register_normalization(Registry& registry) {
  registry.add<OpId::batch_norm_stats>(Backend::cpu, DType::f32, stats);
  registry.add<OpId::batch_norm_forward>(Backend::cpu, DType::f32, forward);
  registry.add<OpId::batch_norm_backward>(Backend::cpu, DType::f32, backward);
}

}  // namespace dendrite::kernels::cpu
