// Internal to the ops layer: the LSTM's elementwise math for one row of a batch, shared by the
// per-step op (ops/rnn.cpp: lstm_pointwise) and the whole-layer op (ops/lstm_layer.cpp), so the
// two compute exactly the same values.
//
// Gates are in PyTorch's order i, f, g, o. The forward can keep the activations i, f, g, o and
// tanh(c') of the row ("acts", 5 * hidden values) so that the backward needs no transcendental
// function at all.
#pragma once

#include <cmath>
#include <cstdint>

// Vector variants of exp for the `omp simd` loops below (glibc's libmvec): the gate
// nonlinearities are the only non-GEMM work of a recurrent step that grows with the state.
#include "dendrite/kernels/cpu/loops_libmvec.h"

namespace dendrite::lstm_rows {

template <typename T>
inline T sigmoid_of(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

// tanh through exp, which vectorises where libm's tanhf (through expm1f) measured as the largest
// single cost of an LSTM training step. Absolute error stays at the type's epsilon.
template <typename T>
inline T tanh_of(T x) {
  return T(1) - T(2) / (std::exp(T(2) * x) + T(1));
}

// Reads p[k] (+ q[k] with kSum): the sum of two halves of a projection without a pass of its own.
template <bool kSum, typename T>
inline T load(const T* p, [[maybe_unused]] const T* q, int64_t k) {
  if constexpr (kSum) {
    return p[k] + q[k];
  } else {
    return p[k];
  }
}

// One row: pre-activations a (+ a2 with kSum: the input and the recurrent projections) and the
// previous cell c -> h_out, c_out; with kSave also acts. c_out may be c (the update is elementwise).
template <bool kSave, bool kSum, typename T>
inline void forward(const T* a, const T* a2, const T* c, T* h_out, T* c_out, T* acts, int64_t hidden) {
  const int64_t n = hidden;
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const T pi = load<kSum>(a, a2, j), pf = load<kSum>(a, a2, n + j);
    const T pg = load<kSum>(a, a2, 2 * n + j), po = load<kSum>(a, a2, 3 * n + j);
    const T i = sigmoid_of(pi), f = sigmoid_of(pf), g = tanh_of(pg), o = sigmoid_of(po);
    const T c_new = f * c[j] + i * g;
    const T tc = tanh_of(c_new);
    c_out[j] = c_new;
    h_out[j] = o * tc;
    if constexpr (kSave) {
      acts[j] = i, acts[n + j] = f, acts[2 * n + j] = g, acts[3 * n + j] = o, acts[4 * n + j] = tc;
    }
  }
}

// One row of the backward: the saved acts, the previous cell c, the gradients dh (+ dh2 with kSum)
// of h' and dc of c' -> dgates (4 * hidden) and dc_out = the gradient of c. dc_out may be dc.
template <bool kSum, typename T>
inline void backward(const T* acts, const T* c, const T* dh, const T* dh2, const T* dc, T* dgates, T* dc_out,
                     int64_t hidden) {
  const int64_t n = hidden;
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const T i = acts[j], f = acts[n + j], g = acts[2 * n + j], o = acts[3 * n + j], tc = acts[4 * n + j];
    const T dht = load<kSum>(dh, dh2, j);
    const T dct = dc[j] + dht * o * (T(1) - tc * tc);
    dgates[j] = dct * g * i * (T(1) - i);
    dgates[n + j] = dct * c[j] * f * (T(1) - f);
    dgates[2 * n + j] = dct * i * (T(1) - g * g);
    dgates[3 * n + j] = dht * tc * o * (T(1) - o);
    dc_out[j] = dct * f;
  }
}

}  // namespace dendrite::lstm_rows
