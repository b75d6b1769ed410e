// How the cpu loops walk strided operands. Every elementwise kernel sees its operands as one shape
// and N stride vectors; walking them index by index (as the reference backend does) wastes most of
// the time on bookkeeping. Instead the shape is first collapsed: size-1 axes are dropped and
// neighbouring axes that every operand steps through as one are merged, so a contiguous tensor
// becomes a single axis and a row broadcast [n, m] + [1, m] keeps two. The loop then hands the
// kernel whole runs along the innermost axis (a pointer offset and a stride per operand), and the
// kernel picks a tight loop for the run's strides (all 1, some 0, or general).
//
// Threads split the flat index range [0, numel) into contiguous chunks; each chunk finds its start
// index with one division per axis and then advances like an odometer.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "dendrite/core/shape.h"
#include "dendrite/core/threading.h"

namespace dendrite::kernels::cpu {

// Collapsed ranks above this (rare: it takes a tensor whose every axis has an odd stride) run on
// the calling thread, so that the parallel path needs no heap allocation (see parallel_chunks).
inline constexpr size_t kMaxLoopRank = 16;

template <size_t N>
struct LoopShape {
  Shape sizes;                     // collapsed sizes, outermost first; never empty
  std::array<Strides, N> strides;  // per operand, in elements, one per collapsed axis
  int64_t numel = 1;

  size_t rank() const { return sizes.size(); }
  int64_t inner_size() const { return sizes.back(); }
  int64_t inner_stride(size_t operand) const { return strides[operand].back(); }

  // Appends an axis inside the current innermost one, merging the two when every operand's outer
  // stride equals its inner stride times the inner size (the offset then depends only on the
  // combined index). Axes of size 1 contribute nothing and are skipped.
  void push_axis(int64_t size, const std::array<int64_t, N>& axis_strides) {
    numel *= size;
    if (size == 1) return;
    if (!sizes.empty()) {
      bool mergeable = true;
      for (size_t k = 0; k < N; ++k) mergeable = mergeable && strides[k].back() == axis_strides[k] * size;
      if (mergeable) {
        sizes.back() *= size;
        for (size_t k = 0; k < N; ++k) strides[k].back() = axis_strides[k];
        return;
      }
    }
    sizes.push_back(size);
    for (size_t k = 0; k < N; ++k) strides[k].push_back(axis_strides[k]);
  }

  // Gives a shape with no axis left (a scalar, or all sizes 1) one axis of size 1 and stride 1,
  // so that every loop can assume rank >= 1 and a scalar takes the contiguous path.
  void finish() {
    if (!sizes.empty()) return;
    sizes.push_back(1);
    for (size_t k = 0; k < N; ++k) strides[k].push_back(1);
  }
};

// The collapsed loop shape of N operands that all have `shape` (broadcasts already expanded).
template <size_t N>
LoopShape<N> collapse(const Shape& shape, const std::array<const Strides*, N>& operand_strides) {
  LoopShape<N> loop;
  for (size_t d = 0; d < shape.size(); ++d) {
    std::array<int64_t, N> s{};
    for (size_t k = 0; k < N; ++k) s[k] = (*operand_strides[k])[d];
    loop.push_axis(shape[d], s);
  }
  loop.finish();
  return loop;
}

// Calls run(n, offsets) for the innermost-axis runs that cover the flat indices [begin, end) in
// row-major order; offsets[k] is operand k's element offset at the run's first element and the
// run steps by loop.inner_stride(k). `index` is scratch of loop.rank() elements.
template <size_t N, typename Run>
void for_each_run(const LoopShape<N>& loop, int64_t begin, int64_t end, std::span<int64_t> index, Run&& run) {
  const size_t rank = loop.rank();
  std::array<int64_t, N> offsets{};
  int64_t rest = begin;
  for (size_t d = rank; d-- > 0;) {
    index[d] = rest % loop.sizes[d];
    rest /= loop.sizes[d];
    for (size_t k = 0; k < N; ++k) offsets[k] += index[d] * loop.strides[k][d];
  }
  const int64_t inner = loop.sizes[rank - 1];
  int64_t pos = begin;
  while (pos < end) {
    const int64_t n = std::min(inner - index[rank - 1], end - pos);
    run(n, offsets);
    pos += n;
    if (pos >= end) return;
    // The run ended at the end of the innermost axis: carry into the outer axes.
    for (size_t k = 0; k < N; ++k) offsets[k] -= index[rank - 1] * loop.strides[k][rank - 1];
    index[rank - 1] = 0;
    for (size_t d = rank - 1; d-- > 0;) {
      ++index[d];
      for (size_t k = 0; k < N; ++k) offsets[k] += loop.strides[k][d];
      if (index[d] < loop.sizes[d]) break;
      for (size_t k = 0; k < N; ++k) offsets[k] -= loop.sizes[d] * loop.strides[k][d];
      index[d] = 0;
    }
  }
}

// Splits [0, n) across threads above `grain` (as parallel_for does) and calls
// body(lo, hi, scratch), where scratch holds 2 * max_rank int64 of index space for for_each_run:
// on each thread's stack for the usual ranks, on the heap (and then on the calling thread only)
// above kMaxLoopRank, so that nothing inside the parallel region allocates or throws.
template <typename Body>
void parallel_chunks(int64_t n, int64_t grain, size_t max_rank, Body&& body) {
  if (n <= 0) return;
  if (max_rank > kMaxLoopRank) {
    std::vector<int64_t> scratch(2 * max_rank);
    body(int64_t{0}, n, std::span<int64_t>(scratch));
    return;
  }
  parallel_for(0, n, grain, [&](int64_t lo, int64_t hi) {
    std::array<int64_t, 2 * kMaxLoopRank> scratch{};
    body(lo, hi, std::span<int64_t>(scratch));
  });
}

// for_each_run over the whole shape, split across threads above `grain` elements. run must not
// throw and must be safe to call concurrently on disjoint index ranges.
template <size_t N, typename Run>
void parallel_runs(const LoopShape<N>& loop, int64_t grain, Run&& run) {
  if (loop.numel == 0) return;
  parallel_chunks(loop.numel, grain, loop.rank(), [&](int64_t lo, int64_t hi, std::span<int64_t> scratch) {
    for_each_run(loop, lo, hi, scratch.first(loop.rank()), run);
  });
}

// Operand k's element offset at flat index `flat` of the loop (one division per axis).
template <size_t N>
int64_t offset_at(const LoopShape<N>& loop, int64_t flat, size_t k) {
  int64_t offset = 0;
  for (size_t d = loop.rank(); d-- > 0;) {
    offset += (flat % loop.sizes[d]) * loop.strides[k][d];
    flat /= loop.sizes[d];
  }
  return offset;
}

}  // namespace dendrite::kernels::cpu
