// cpu batch normalisation for f32: threads split the channels, and each channel's values are walked
// as N runs of S contiguous floats (x is [N, C, S]). Per run the sums are kept in float (at most S
// roundings, and S is an image plane) and then added into double, so the statistics of a large
// batch do not drift. The variance comes from one pass of shifted sums: with k the channel's first
// value, var = E[(x-k)^2] - E[x-k]^2, which avoids the cancellation of the plain E[x^2] - E[x]^2
// when |mean| is large against the spread (Chan, Golub & LeVeque 1983, "Algorithms for computing
// the sample variance"). Formulas as in the reference kernel (reference/normalization.cpp).
//
// Channels-last operands (core/memory_format.h) are rows of C values instead: threads split the
// rows, each sums blocks of up to kRowBlock rows per channel in float, adds them into double
// partials of its own, and the partials are added under a lock; the element-wise passes are one
// vector loop per row over per-channel coefficients.
#include <algorithm>
#include <cmath>
#include <mutex>
#include <vector>

#include "dendrite/core/memory_format.h"
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

bool channels_last(const TensorBase& x) { return memory_format_of(x) == MemoryFormat::channels_last; }

// The forward of channel c as y = x * scale + shift.
struct Affine {
  float scale, shift;
};
Affine forward_affine(const TensorBase& mean, const TensorBase& var, const TensorBase& weight, const TensorBase& bias,
                      double eps, int64_t c) {
  const double invstd = 1.0 / std::sqrt(static_cast<double>(cdata(var)[c]) + eps);
  const auto scale = static_cast<float>(param(weight, c, 1.0f) * invstd);
  return {scale, param(bias, c, 0.0f) - cdata(mean)[c] * scale};
}

// The backward of channel c, given its sums over gy and gy * (x - mu) (m values): writes gbias and
// gweight when wanted and returns gx = k1 * gy - k2 * (x - mu) - k3, the reference formula with
// xhat expanded.
struct GradTerms {
  float k1, k2, k3;
};
GradTerms backward_terms(const TensorBase& var, const TensorBase& weight, double eps, bool batch_stats, double m,
                         double sum_gy, double sum_gy_xmu, const TensorBase& gweight, const TensorBase& gbias,
                         int64_t c) {
  const double invstd = 1.0 / std::sqrt(static_cast<double>(cdata(var)[c]) + eps);
  if (gbias.defined()) mdata(gbias)[c] = static_cast<float>(sum_gy);
  if (gweight.defined()) mdata(gweight)[c] = static_cast<float>(sum_gy_xmu * invstd);
  const double w = param(weight, c, 1.0f);
  return {static_cast<float>(w * invstd),
          batch_stats ? static_cast<float>(w * invstd * invstd * invstd * sum_gy_xmu / m) : 0.0f,
          batch_stats ? static_cast<float>(w * invstd * sum_gy / m) : 0.0f};
}

// ---- channels-last: rows of C values ----------------------------------------------------------

constexpr int64_t kRowBlock = 256;

// Per-channel sums over all rows of f(row, c, k) for two quantities at once: (sum a, sum b) where
// f fills a[k], b[k] for the C channels of one row. Threads take ranges of rows.
template <typename Fn>
void channel_sums(int64_t rows, int64_t C, Fn fill, std::vector<double>& sum_a, std::vector<double>& sum_b) {
  sum_a.assign(static_cast<size_t>(C), 0.0);
  sum_b.assign(static_cast<size_t>(C), 0.0);
  std::mutex lock;
  const int64_t grain = std::max<int64_t>(kRowBlock, kParallelGrain / std::max<int64_t>(C, 1));
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    std::vector<double> da(static_cast<size_t>(C), 0.0), db(static_cast<size_t>(C), 0.0);
    std::vector<float> fa(static_cast<size_t>(C)), fb(static_cast<size_t>(C));
    for (int64_t start = r0; start < r1; start += kRowBlock) {
      std::fill(fa.begin(), fa.end(), 0.0f);
      std::fill(fb.begin(), fb.end(), 0.0f);
      for (int64_t r = start; r < std::min(start + kRowBlock, r1); ++r) fill(r, fa.data(), fb.data());
      for (int64_t k = 0; k < C; ++k) {
        da[static_cast<size_t>(k)] += fa[static_cast<size_t>(k)];
        db[static_cast<size_t>(k)] += fb[static_cast<size_t>(k)];
      }
    }
    std::lock_guard guard(lock);
    for (size_t k = 0; k < da.size(); ++k) {
      sum_a[k] += da[k];
      sum_b[k] += db[k];
    }
  });
}

void stats_channels_last(const TensorBase& x, const TensorBase& mean, const TensorBase& var) {
  const int64_t C = x.shape()[1], rows = x.numel() / std::max<int64_t>(C, 1);
  const float* px = cdata(x);
  const float* shift = px;  // row 0: the shifted sums' k per channel
  std::vector<double> s1, s2;
  channel_sums(
      rows, C,
      [&](int64_t r, float* a, float* b) {
        const float* row = px + r * C;
#pragma omp simd
        for (int64_t k = 0; k < C; ++k) {
          const float d = row[k] - shift[k];
          a[k] += d;
          b[k] += d * d;
        }
      },
      s1, s2);
  const auto m = static_cast<double>(rows);
  for (int64_t k = 0; k < C; ++k) {
    const double shifted_mean = s1[static_cast<size_t>(k)] / m;
    mdata(mean)[k] = static_cast<float>(shift[k] + shifted_mean);
    mdata(var)[k] = static_cast<float>(std::max(0.0, s2[static_cast<size_t>(k)] / m - shifted_mean * shifted_mean));
  }
}

// fn(row) for every row, threads taking ranges of rows: the element-wise passes.
template <typename Fn>
void each_row(int64_t rows, int64_t C, Fn fn) {
  parallel_for(0, rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(C, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) fn(r);
  });
}

void forward_channels_last(const TensorBase& x, const TensorBase& mean, const TensorBase& var, const TensorBase& weight,
                           const TensorBase& bias, double eps, const TensorBase& y) {
  const int64_t C = x.shape()[1], rows = x.numel() / std::max<int64_t>(C, 1);
  std::vector<float> scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    const Affine a = forward_affine(mean, var, weight, bias, eps, c);
    scale[static_cast<size_t>(c)] = a.scale;
    shift[static_cast<size_t>(c)] = a.shift;
  }
  const float* px = cdata(x);
  float* py = mdata(y);
  const float* sc = scale.data();
  const float* sh = shift.data();
  each_row(rows, C, [=](int64_t r) {
    const float* in = px + r * C;
    float* out = py + r * C;
#pragma omp simd
    for (int64_t k = 0; k < C; ++k) out[k] = in[k] * sc[k] + sh[k];
  });
}

void backward_channels_last(const TensorBase& x, const TensorBase& gy, const TensorBase& mean, const TensorBase& var,
                            const TensorBase& weight, double eps, bool batch_stats, const TensorBase& gx,
                            const TensorBase& gweight, const TensorBase& gbias) {
  const int64_t C = x.shape()[1], rows = x.numel() / std::max<int64_t>(C, 1);
  const float* px = cdata(x);
  const float* pgy = cdata(gy);
  const float* mu = cdata(mean);
  std::vector<double> sum_gy, sum_gy_xmu;
  channel_sums(
      rows, C,
      [&](int64_t r, float* a, float* b) {
        const float* xr = px + r * C;
        const float* gr = pgy + r * C;
#pragma omp simd
        for (int64_t k = 0; k < C; ++k) {
          a[k] += gr[k];
          b[k] += gr[k] * (xr[k] - mu[k]);
        }
      },
      sum_gy, sum_gy_xmu);
  const auto m = static_cast<double>(rows);
  std::vector<float> k1(static_cast<size_t>(C)), k2(static_cast<size_t>(C)), k3(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    const auto i = static_cast<size_t>(c);
    const GradTerms t = backward_terms(var, weight, eps, batch_stats, m, sum_gy[i], sum_gy_xmu[i], gweight, gbias, c);
    k1[i] = t.k1;
    k2[i] = t.k2;
    k3[i] = t.k3;
  }
  if (!gx.defined()) return;
  float* pgx = mdata(gx);
  const float *c1 = k1.data(), *c2 = k2.data(), *c3 = k3.data();
  each_row(rows, C, [=](int64_t r) {
    const float* xr = px + r * C;
    const float* gr = pgy + r * C;
    float* out = pgx + r * C;
#pragma omp simd
    for (int64_t k = 0; k < C; ++k) out[k] = c1[k] * gr[k] - c2[k] * (xr[k] - mu[k]) - c3[k];
  });
}

// ---- contiguous: [N, C, S] ---------------------------------------------------------------------

void stats(const TensorBase& x, const TensorBase& mean, const TensorBase& var) {
  if (channels_last(x)) return stats_channels_last(x, mean, var);
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
  if (channels_last(x)) return forward_channels_last(x, mean, var, weight, bias, eps, y);
  const Layout l(x);
  const float* px = cdata(x);
  float* py = mdata(y);
  parallel_for(0, l.c, l.channel_grain(), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const auto [scale, shift] = forward_affine(mean, var, weight, bias, eps, c);
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
  if (channels_last(x)) return backward_channels_last(x, gy, mean, var, weight, eps, batch_stats, gx, gweight, gbias);
  const Layout l(x);
  const float* px = cdata(x);
  const float* pgy = cdata(gy);
  const double m = static_cast<double>(l.n * l.s);
  parallel_for(0, l.c, l.channel_grain(), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float mu = cdata(mean)[c];
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
      const auto [k1, k2, k3] = backward_terms(var, weight, eps, batch_stats, m, sum_gy, sum_gy_xmu, gweight, gbias, c);
      if (!gx.defined()) continue;
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
