// cpu layer normalisation, f32 and f64 (contract and gradients in kernels/ops.h). Each row of D
// values is normalised in three `omp simd` passes while it sits in L1 (mean, then the variance
// around it, then y), rows split across threads. The backward makes gx in two passes over its row
// and adds the row's share of gweight and gbias into its block's partial sums; blocks have a fixed
// number of rows and their partials are added in block order, so the sums (and a training run)
// are the same for any thread count.
#include <algorithm>
#include <cmath>
#include <vector>

#include "dendrite/core/threading.h"
#include "dendrite/kernels/cpu/cpu.h"
#include "dendrite/kernels/cpu/loops_libmvec.h"

namespace dendrite::kernels::cpu {

namespace {

// Rows per thread chunk (forward) or per block of partial sums (backward): about kParallelGrain values.
int64_t row_grain(int64_t features) { return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, features)); }

// weight or bias as a pointer, with a row of `absent` standing in for an undefined one.
template <typename T>
const T* param_row(const TensorBase& p, std::vector<T>& stand_in, int64_t features, T absent) {
  if (p.defined()) return p.data_ptr<T>();
  stand_in.assign(static_cast<size_t>(features), absent);
  return stand_in.data();
}

template <typename T>
struct RowStats {
  T mean, rstd;
};

template <typename T>
DENDRITE_VECTOR_CLONES RowStats<T> row_stats(const T* x, int64_t n, double eps) {
  T sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const T mean = sum / static_cast<T>(n);
  T squares = 0;
#pragma omp simd reduction(+ : squares)
  for (int64_t i = 0; i < n; ++i) squares += (x[i] - mean) * (x[i] - mean);
  const T rstd = static_cast<T>(1.0 / std::sqrt(static_cast<double>(squares) / static_cast<double>(n) + eps));
  return {mean, rstd};
}

template <typename T>
DENDRITE_VECTOR_CLONES void normalize_row(const T* x, const T* w, const T* b, RowStats<T> s, T* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - s.mean) * s.rstd * w[i] + b[i];
}

template <typename T>
void forward(const TensorBase& x, const TensorBase& weight, const TensorBase& bias, int64_t features, double eps,
             const TensorBase& y, const TensorBase& mean, const TensorBase& rstd) {
  if (features == 0 || x.numel() == 0) return;
  std::vector<T> ones, zeros;
  const T* w = param_row<T>(weight, ones, features, T(1));
  const T* b = param_row<T>(bias, zeros, features, T(0));
  const T* px = x.data_ptr<T>();
  T* py = y.data_ptr<T>();
  T* pmean = mean.defined() ? mean.data_ptr<T>() : nullptr;
  T* prstd = rstd.defined() ? rstd.data_ptr<T>() : nullptr;
  parallel_for(0, x.numel() / features, row_grain(features), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const RowStats<T> s = row_stats(px + r * features, features, eps);
      normalize_row(px + r * features, w, b, s, py + r * features, features);
      if (pmean != nullptr) pmean[r] = s.mean;
      if (prstd != nullptr) prstd[r] = s.rstd;
    }
  });
}

// One row: gx from gy, and the row's gy * xhat and gy added into the block's gweight / gbias sums.
template <typename T>
DENDRITE_VECTOR_CLONES void backward_row(const T* x, const T* gy, const T* w, RowStats<T> s, T* gx, T* gw, T* gb,
                                         int64_t n) {
  T sum_g = 0, sum_gxhat = 0;
#pragma omp simd reduction(+ : sum_g, sum_gxhat)
  for (int64_t i = 0; i < n; ++i) {
    const T xhat = (x[i] - s.mean) * s.rstd;
    const T g = gy[i] * w[i];
    sum_g += g;
    sum_gxhat += g * xhat;
    gw[i] += gy[i] * xhat;
    gb[i] += gy[i];
  }
  const T mean_g = sum_g / static_cast<T>(n), mean_gxhat = sum_gxhat / static_cast<T>(n);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const T xhat = (x[i] - s.mean) * s.rstd;
    gx[i] = s.rstd * (gy[i] * w[i] - mean_g - xhat * mean_gxhat);
  }
}

template <typename T>
DENDRITE_VECTOR_CLONES void add_row(const T* part, T* total, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) total[i] += part[i];
}

template <typename T>
void backward(const TensorBase& x, const TensorBase& gy, const TensorBase& mean, const TensorBase& rstd,
              const TensorBase& weight, int64_t features, const TensorBase& gx, const TensorBase& gweight,
              const TensorBase& gbias) {
  const int64_t rows = features == 0 ? 0 : x.numel() / features;
  const int64_t block_rows = row_grain(features), blocks = (rows + block_rows - 1) / block_rows;
  std::vector<T> ones;
  const T* w = param_row<T>(weight, ones, features, T(1));
  const T *px = x.data_ptr<T>(), *pg = gy.data_ptr<T>(), *pmean = mean.data_ptr<T>(), *prstd = rstd.data_ptr<T>();
  T* pgx = gx.data_ptr<T>();
  // Per block: gweight's partial sums, then gbias's (computed even when not wanted: one add a value).
  const auto d = static_cast<size_t>(features);
  std::vector<T> partial(static_cast<size_t>(blocks) * 2 * d, T(0));
  parallel_for(0, blocks, 2, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      T* gw = partial.data() + static_cast<size_t>(k) * 2 * d;
      for (int64_t r = k * block_rows; r < std::min(rows, (k + 1) * block_rows); ++r) {
        const int64_t at = r * features;
        backward_row(px + at, pg + at, w, RowStats<T>{pmean[r], prstd[r]}, pgx + at, gw, gw + d, features);
      }
    }
  });
  for (int which = 0; which < 2; ++which) {
    const TensorBase& out = which == 0 ? gweight : gbias;
    if (!out.defined()) continue;
    T* total = out.data_ptr<T>();
    std::fill(total, total + features, T(0));
    for (int64_t k = 0; k < blocks; ++k)
      add_row(partial.data() + (static_cast<size_t>(k) * 2 + which) * d, total, features);
  }
}

}  // namespace

void register_layer_norm(Registry& registry) {
  registry.add<OpId::layer_norm_forward>(Backend::cpu, DType::f32, forward<float>);
  registry.add<OpId::layer_norm_forward>(Backend::cpu, DType::f64, forward<double>);
  registry.add<OpId::layer_norm_backward>(Backend::cpu, DType::f32, backward<float>);
  registry.add<OpId::layer_norm_backward>(Backend::cpu, DType::f64, backward<double>);
}

}  // namespace dendrite::kernels::cpu
