// cpu kernels of additive attention's scores (contract and formulas in kernels/ops.h), f32 and
// f64. The forward is one `omp simd` pass over each [A] row of keys, tanh through exp (vector exp),
// storing tanh only when the backward needs it. The backward makes dkeys, dquery and dv in one pass
// over the saved tanh, rows split across threads by batch row, each thread summing its rows' share
// of dv while they are in cache; the shares are added in thread order. (dv in a second pass split
// by columns, each thread reading every row, made two threads slower than one.)
#include <omp.h>

#include <algorithm>
#include <vector>

#include "dendrite/core/threading.h"
#include "dendrite/kernels/cpu/cpu.h"
#include "dendrite/kernels/cpu/loops_gates.h"

namespace dendrite::kernels::cpu {

namespace {

// An operand with unit stride along its last axis, addressed by its first two indices; the strides
// are read once, outside the per-row loops.
template <typename T>
struct Rows {
  Rows(const TensorBase& x)  // NOLINT: implicit, so kernels pass tensors straight in
      : base(static_cast<T*>(x.defined() ? x.storage().data() : nullptr) + (x.defined() ? x.offset() : 0)),
        s0(x.defined() && x.dim() > 1 ? x.stride(0) : 0),
        s1(x.defined() && x.dim() > 2 ? x.stride(1) : 0) {}
  T* operator()(int64_t i, int64_t j = 0) const { return base + i * s0 + j * s1; }
  T* base;
  int64_t s0, s1;
};

// Rows (of A values) per thread chunk so that a chunk holds about kParallelGrain values.
int64_t row_grain(int64_t width) { return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, width)); }

// One key row k and the query row q -> the score, writing tanh(k + q) to h when h is not null.
template <typename T>
DENDRITE_VECTOR_CLONES T score_row(const T* k, const T* q, const T* v, T* h, int64_t n) {
  T sum = 0;
  if (h != nullptr) {
#pragma omp simd reduction(+ : sum)
    for (int64_t a = 0; a < n; ++a) {
      const T t = tanh_of(k[a] + q[a]);
      h[a] = t;
      sum += v[a] * t;
    }
  } else {
#pragma omp simd reduction(+ : sum)
    for (int64_t a = 0; a < n; ++a) sum += v[a] * tanh_of(k[a] + q[a]);
  }
  return sum;
}

template <typename T>
void forward(const TensorBase& keys, const TensorBase& query, const TensorBase& v, const TensorBase& scores,
             const TensorBase& hidden) {
  const int64_t source = keys.size(1), width = keys.size(2);
  const Rows<const T> k(keys), q(query);
  const Rows<T> h(hidden);
  const T* pv = Rows<const T>(v).base;
  T* out = static_cast<T*>(scores.storage().data()) + scores.offset();
  const int64_t out0 = scores.stride(0), out1 = scores.stride(1);
  parallel_for(0, keys.size(0) * source, row_grain(width), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / source, s = r % source;
      out[b * out0 + s * out1] = score_row(k(b, s), q(b), pv, h.base != nullptr ? h(b, s) : nullptr, width);
    }
  });
}

// One key row: dkeys = g v (1 - h^2), dq += it, dv += g h.
template <typename T>
DENDRITE_VECTOR_CLONES void backward_row(const T* h, const T* v, T g, T* dk, T* dq, T* dv, int64_t n) {
#pragma omp simd
  for (int64_t a = 0; a < n; ++a) {
    const T d = g * v[a] * (T(1) - h[a] * h[a]);
    dk[a] = d;
    dq[a] += d;
    dv[a] += g * h[a];
  }
}

// dv += part: one thread's partial sum into the total.
template <typename T>
DENDRITE_VECTOR_CLONES void add_row(const T* part, T* dv, int64_t n) {
#pragma omp simd
  for (int64_t a = 0; a < n; ++a) dv[a] += part[a];
}

template <typename T>
void backward(const TensorBase& hidden, const TensorBase& v, const TensorBase& grad, const TensorBase& dkeys,
              const TensorBase& dquery, const TensorBase& dv) {
  const int64_t batch = hidden.size(0), source = hidden.size(1), width = hidden.size(2);
  const Rows<const T> h(hidden);
  const Rows<T> dk(dkeys), dq(dquery);
  const T* pv = Rows<const T>(v).base;
  const T* pg = static_cast<const T*>(grad.storage().data()) + grad.offset();
  const int64_t g0 = grad.stride(0), g1 = grad.stride(1);
  // One dv partial sum per thread, added up in thread order below.
  const int threads = num_threads();
  std::vector<T> partial(static_cast<size_t>(threads * width), T(0));
  parallel_for(0, batch, row_grain(source * width), [&](int64_t b0, int64_t b1) {
    // Inline (one chunk, or inside an outer parallel region) any slot is this call's own.
    T* dv_part = partial.data() + static_cast<int64_t>(std::min(omp_get_thread_num(), threads - 1)) * width;
    for (int64_t b = b0; b < b1; ++b) {
      T* dq_row = dq(b);
      std::fill(dq_row, dq_row + width, T(0));
      for (int64_t s = 0; s < source; ++s)
        backward_row(h(b, s), pv, pg[b * g0 + s * g1], dk(b, s), dq_row, dv_part, width);
    }
  });
  T* pdv = Rows<T>(dv).base;
  std::copy(partial.begin(), partial.begin() + width, pdv);
  for (int t = 1; t < threads; ++t) add_row(partial.data() + static_cast<int64_t>(t) * width, pdv, width);
}

}  // namespace

void register_attention(Registry& registry) {
  registry.add<OpId::additive_scores_forward>(Backend::cpu, DType::f32, forward<float>);
  registry.add<OpId::additive_scores_forward>(Backend::cpu, DType::f64, forward<double>);
  registry.add<OpId::additive_scores_backward>(Backend::cpu, DType::f32, backward<float>);
  registry.add<OpId::additive_scores_backward>(Backend::cpu, DType::f64, backward<double>);
}

}  // namespace dendrite::kernels::cpu
