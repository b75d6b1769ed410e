// The arithmetic of the cpu reductions, separated from how they walk memory (reduce.cpp).
//
// Reducer<T, op> knows its accumulator, identity and combination, and two inner loops:
//  - run: reduces n elements at a stride into one accumulator (row sums, softmax-sized rows);
//  - accumulate_row: folds a contiguous row into a row of accumulators (column sums).
// Sums accumulate float blocks of kSumBlock elements in SIMD lanes and add the block sums in
// double, so that a million-element f32 sum keeps about float precision instead of losing digits
// to one long running total (the blocked variant of pairwise summation, Higham, "The accuracy of
// floating point summation", SIAM J. Sci. Comput. 14(4), 1993). Column sums likewise add blocks of
// rows in float and the block sums in double (reduce.cpp).
// max/min propagate NaN like the reference backend: any NaN among the inputs gives NaN.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "dendrite/kernels/params.h"

namespace dendrite::kernels::cpu {

inline constexpr int64_t kSumBlock = 512;

template <typename T, ReduceOp Op>
struct Reducer {
  static constexpr bool kSum = Op == ReduceOp::sum;
  static constexpr bool kMax = Op == ReduceOp::max;
  using Acc = std::conditional_t<kSum, double, T>;

  static Acc identity() {
    if constexpr (kSum) return 0.0;
    if constexpr (kMax) return -std::numeric_limits<T>::infinity();
    return std::numeric_limits<T>::infinity();
  }

  // The reference's update rule: the candidate wins when it is better or NaN, and a NaN
  // accumulator is never replaced (nothing compares greater or less than it).
  static Acc combine(Acc acc, Acc v) {
    if constexpr (kSum) return acc + v;
    if constexpr (kMax) return (v > acc || v != v) ? v : acc;
    return (v < acc || v != v) ? v : acc;
  }

  static Acc run(const T* x, int64_t n, int64_t stride) {
    if constexpr (kSum) {
      return stride == 1 ? sum_contiguous(x, n) : sum_strided(x, n, stride);
    } else {
      return stride == 1 ? extremum_contiguous(x, n) : extremum_strided(x, n, stride);
    }
  }

  static void accumulate_row(Acc* acc, const T* x, int64_t n) {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) acc[j] = combine(acc[j], static_cast<Acc>(x[j]));
  }

  // acc[j] += x[j] in T itself (for the float row blocks of column sums).
  static void add_row(T* acc, const T* x, int64_t n) {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) acc[j] += x[j];
  }

 private:
  static double sum_contiguous(const T* x, int64_t n) {
    double total = 0.0;
    for (int64_t begin = 0; begin < n; begin += kSumBlock) {
      const int64_t m = std::min(kSumBlock, n - begin);
      const T* block = x + begin;
      T s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t i = 0; i < m; ++i) s += block[i];
      total += static_cast<double>(s);
    }
    return total;
  }

  static double sum_strided(const T* x, int64_t n, int64_t stride) {
    double total = 0.0;
    for (int64_t i = 0; i < n; ++i) total += static_cast<double>(x[i * stride]);
    return total;
  }

  // Lane-wise max (or min) ignoring NaN, which vectorises to plain max instructions, plus a
  // separate "saw a NaN" flag that restores the reference's propagation at the end.
  static T extremum_contiguous(const T* x, int64_t n) {
    T best = identity();
    int nan = 0;
    if constexpr (kMax) {
#pragma omp simd reduction(max : best) reduction(| : nan)
      for (int64_t i = 0; i < n; ++i) {
        best = x[i] > best ? x[i] : best;
        nan |= x[i] != x[i];
      }
    } else {
#pragma omp simd reduction(min : best) reduction(| : nan)
      for (int64_t i = 0; i < n; ++i) {
        best = x[i] < best ? x[i] : best;
        nan |= x[i] != x[i];
      }
    }
    return nan ? std::numeric_limits<T>::quiet_NaN() : best;
  }

  static T extremum_strided(const T* x, int64_t n, int64_t stride) {
    T best = identity();
    for (int64_t i = 0; i < n; ++i) best = combine(best, x[i * stride]);
    return best;
  }
};

}  // namespace dendrite::kernels::cpu
