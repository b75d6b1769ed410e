// cpu argmax: the index of the FIRST maximum along an axis, as the reference backend defines it:
// the first element is the initial best and a later one replaces it only when strictly greater,
// so ties keep the earliest index, a NaN never wins unless it comes first (and then nothing
// beats it).
//
// Along a contiguous axis (class scores [N, C] along C) the maximum is found with a vectorised
// max that skips NaN, then the first element equal to it is the answer: the same index the
// sequential rule picks, because an element equal to the running best never replaces it. Along a
// strided axis whose neighbours are contiguous (argmax over the batch axis) whole rows update a
// tile of running bests at once; anything else scans each output's axis with its stride.
#include "dendrite/kernels/cpu/loops_argmax.h"

#include <algorithm>
#include <array>

#include "dendrite/kernels/cpu/loops_iter.h"

namespace dendrite::kernels::cpu {

namespace {

constexpr int64_t kColumnTile = 512;

template <typename T>
int64_t argmax_contiguous(const T* x, int64_t n) {
  const T first = x[0];
  if (first != first) return 0;
  T best = first;
#pragma omp simd reduction(max : best)
  for (int64_t i = 1; i < n; ++i) best = x[i] > best ? x[i] : best;
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] == best) return i;
  }
  return 0;  // unreachable: best is one of the elements
}

template <typename T>
int64_t argmax_strided(const T* x, int64_t n, int64_t step) {
  int64_t best = 0;
  T best_value = x[0];
  for (int64_t i = 1; i < n; ++i) {
    const T v = x[i * step];
    if (v > best_value) {
      best = i;
      best_value = v;
    }
  }
  return best;
}

// Running bests of `cols` adjacent columns over the n rows at x, x + step, ...
template <typename T>
void argmax_tile(const T* x, int64_t n, int64_t step, int64_t cols, int64_t* out) {
  std::array<T, kColumnTile> best_value;
  std::copy_n(x, cols, best_value.begin());
  std::fill_n(out, cols, int64_t{0});
  for (int64_t i = 1; i < n; ++i) {
    const T* row = x + i * step;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) {
      const bool better = row[j] > best_value[static_cast<size_t>(j)];
      best_value[static_cast<size_t>(j)] = better ? row[j] : best_value[static_cast<size_t>(j)];
      out[j] = better ? i : out[j];
    }
  }
}

template <typename T>
void argmax_typed(const TensorBase& x, int64_t axis, const TensorBase& out) {
  LoopShape<2> kept;  // operands: x, out
  for (size_t d = 0; d < x.shape().size(); ++d) {
    if (static_cast<int64_t>(d) != axis) kept.push_axis(x.shape()[d], {x.strides()[d], out.strides()[d]});
  }
  kept.finish();
  if (kept.numel == 0) return;
  const int64_t n = x.shape()[static_cast<size_t>(axis)];
  const int64_t step = x.strides()[static_cast<size_t>(axis)];
  const T* px = static_cast<const T*>(x.raw_data());
  int64_t* po = static_cast<int64_t*>(out.raw_data());
  const int64_t width = kept.inner_size();

  if (step != 1 && n > 1 && width > 1 && kept.inner_stride(0) == 1 && kept.inner_stride(1) == 1) {
    const int64_t tiles_per_row = (width + kColumnTile - 1) / kColumnTile;
    const int64_t tiles = kept.numel / width * tiles_per_row;
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / (n * std::min(width, kColumnTile)));
    parallel_for(0, tiles, grain, [&](int64_t lo, int64_t hi) {
      for (int64_t t = lo; t < hi; ++t) {
        const int64_t first = t / tiles_per_row * width + t % tiles_per_row * kColumnTile;
        const int64_t cols = std::min(kColumnTile, width - t % tiles_per_row * kColumnTile);
        argmax_tile(px + offset_at(kept, first, 0), n, step, cols, po + offset_at(kept, first, 1));
      }
    });
    return;
  }

  const int64_t grain = std::max<int64_t>(1, kParallelGrain / n);
  const int64_t sx = kept.inner_stride(0), so = kept.inner_stride(1);
  parallel_runs(kept, grain, [&](int64_t m, const std::array<int64_t, 2>& o) {
    for (int64_t i = 0; i < m; ++i) {
      const T* row = px + o[0] + i * sx;
      po[o[1] + i * so] = step == 1 ? argmax_contiguous(row, n) : argmax_strided(row, n, step);
    }
  });
}

}  // namespace

void argmax(const TensorBase& x, int64_t axis, const TensorBase& out) {
  if (x.dtype() == DType::f64) {
    argmax_typed<double>(x, axis, out);
  } else {
    argmax_typed<float>(x, axis, out);
  }
}

}  // namespace dendrite::kernels::cpu
