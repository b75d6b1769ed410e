// The gate nonlinearities of the recurrent step kernels (lstm.cpp, gru.cpp), written through exp so
// that `omp simd` loops call glibc's vector exp (loops_libmvec.h): they are the only non-GEMM work
// of a recurrent step that grows with the state.
#pragma once

#include <cmath>

#include "dendrite/kernels/cpu/loops_libmvec.h"

namespace dendrite::kernels::cpu {

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

}  // namespace dendrite::kernels::cpu
