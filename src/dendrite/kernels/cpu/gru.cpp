// cpu GRU step kernels (contract in kernels/ops.h), f32 and f64: one `omp simd` pass over each row,
// the gate nonlinearities written through exp so that they vectorise with glibc's vector exp.
// Threads split the rows, only above kParallelGrain values: a recurrent step is small and runs
// thousands of times. Formulas as in reference/gru.cpp.
#include <algorithm>
#include <cmath>

#include "dendrite/core/threading.h"
#include "dendrite/kernels/cpu/cpu.h"
#include "dendrite/kernels/cpu/loops_gates.h"

namespace dendrite::kernels::cpu {

namespace {

// Row b of a [B, W] operand with unit stride along W.
template <typename T>
T* row(const TensorBase& x, int64_t b) {
  return static_cast<T*>(x.storage().data()) + x.offset() + b * x.stride(0);
}

// Rows per thread chunk so that a chunk holds about kParallelGrain values.
int64_t row_grain(int64_t hidden) { return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, hidden)); }

// One row: projections x and s (3n each) and the previous state h -> h_out, which may be h.
template <typename T>
DENDRITE_VECTOR_CLONES void forward_row(const T* x, const T* s, const T* h, T* h_out, int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const T r = sigmoid_of(x[j] + s[j]), z = sigmoid_of(x[n + j] + s[n + j]);
    const T nn = tanh_of(x[2 * n + j] + r * s[2 * n + j]);
    h_out[j] = (T(1) - z) * nn + z * h[j];
  }
}

template <typename T>
void forward(const TensorBase& gx, const TensorBase& gh, const TensorBase& h, const TensorBase& h_out) {
  const int64_t n = h.size(1);
  parallel_for(0, h.size(0), row_grain(n), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      forward_row(row<const T>(gx, b), row<const T>(gh, b), row<const T>(h, b), row<T>(h_out, b), n);
    }
  });
}

// One row: the forward's inputs and g, the gradient of h' -> dx, ds (3n each) and dh, the gradient
// of h, which may be g.
template <typename T>
DENDRITE_VECTOR_CLONES void backward_row(const T* x, const T* s, const T* h, const T* g, T* dx, T* ds, T* dh, int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const T r = sigmoid_of(x[j] + s[j]), z = sigmoid_of(x[n + j] + s[n + j]);
    const T nn = tanh_of(x[2 * n + j] + r * s[2 * n + j]);
    const T gj = g[j];
    const T dn = gj * (T(1) - z) * (T(1) - nn * nn);
    const T dz = gj * (h[j] - nn) * z * (T(1) - z);
    const T dr = dn * s[2 * n + j] * r * (T(1) - r);
    dx[j] = dr, ds[j] = dr;
    dx[n + j] = dz, ds[n + j] = dz;
    dx[2 * n + j] = dn, ds[2 * n + j] = dn * r;
    dh[j] = gj * z;
  }
}

template <typename T>
void backward(const TensorBase& gx, const TensorBase& gh, const TensorBase& h, const TensorBase& dh_out,
              const TensorBase& dgx, const TensorBase& dgh, const TensorBase& dh) {
  const int64_t n = h.size(1);
  parallel_for(0, h.size(0), row_grain(n), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      backward_row(row<const T>(gx, b), row<const T>(gh, b), row<const T>(h, b), row<const T>(dh_out, b),
                   row<T>(dgx, b), row<T>(dgh, b), row<T>(dh, b), n);
    }
  });
}

}  // namespace

void register_gru(Registry& registry) {
  registry.add<OpId::gru_forward>(Backend::cpu, DType::f32, forward<float>);
  registry.add<OpId::gru_forward>(Backend::cpu, DType::f64, forward<double>);
  registry.add<OpId::gru_backward>(Backend::cpu, DType::f32, backward<float>);
  registry.add<OpId::gru_backward>(Backend::cpu, DType::f64, backward<double>);
}

}  // namespace dendrite::kernels::cpu
