// The scalar math of the cpu elementwise loops, one small functor per UnaryOp and BinaryOp, in the
// operands' own precision (float for f32). Each means the same as reference::apply_unary /
// apply_binary (the oracle, which computes in double): comparisons and NaN handling are written
// the same way, and the transcendental functions are the C library's float versions (within 4
// ulp; vectorised through loops_libmvec.h), rewritten where the textbook form cancels: gelu uses
// erfc, tanh_grad (1 - y)(1 + y).
//
// with_unary / with_binary turn the runtime op into a compile-time functor once per call, so the
// loops below them compile to one tight loop per op.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <type_traits>

#include "dendrite/kernels/cpu/loops_libmvec.h"
#include "dendrite/kernels/params.h"
#include "dendrite/kernels/reference/reference.h"

namespace dendrite::kernels::cpu {

// Calls fn(f) with f(x) computing `op` on a floating value x.
template <typename Fn>
void with_unary(UnaryOp op, Fn&& fn) {
  switch (op) {
    case UnaryOp::neg: return fn([](auto x) { return -x; });
    case UnaryOp::exp: return fn([](auto x) { return std::exp(x); });
    case UnaryOp::log: return fn([](auto x) { return std::log(x); });
    case UnaryOp::sqrt: return fn([](auto x) { return std::sqrt(x); });
    case UnaryOp::rsqrt: return fn([](auto x) { return decltype(x)(1) / std::sqrt(x); });
    case UnaryOp::abs: return fn([](auto x) { return std::abs(x); });
    case UnaryOp::relu: return fn([](auto x) { return x > 0 ? x : decltype(x)(0); });
    case UnaryOp::sigmoid: return fn([](auto x) { return decltype(x)(1) / (decltype(x)(1) + std::exp(-x)); });
    case UnaryOp::tanh: return fn([](auto x) { return std::tanh(x); });
    case UnaryOp::gelu:
      // 0.5 x (1 + erf(x / sqrt 2)) = 0.5 x erfc(-x / sqrt 2), which keeps its precision for x << 0.
      return fn([](auto x) {
        using T = decltype(x);
        return T(0.5) * x * std::erfc(-x * T(std::numbers::sqrt2 / 2));
      });
    case UnaryOp::erf: return fn([](auto x) { return std::erf(x); });
    case UnaryOp::count: break;
  }
}

// Calls fn(f) with f(a, b) computing `op` on floating values.
template <typename Fn>
void with_binary(BinaryOp op, Fn&& fn) {
  switch (op) {
    case BinaryOp::add: return fn([](auto a, auto b) { return a + b; });
    case BinaryOp::sub: return fn([](auto a, auto b) { return a - b; });
    case BinaryOp::mul: return fn([](auto a, auto b) { return a * b; });
    case BinaryOp::div: return fn([](auto a, auto b) { return a / b; });
    case BinaryOp::pow: return fn([](auto a, auto b) { return std::pow(a, b); });
    case BinaryOp::maximum: return fn([](auto a, auto b) { return a > b ? a : b; });
    case BinaryOp::minimum: return fn([](auto a, auto b) { return a < b ? a : b; });
    case BinaryOp::eq: return fn([](auto a, auto b) { return a == b ? decltype(a)(1) : decltype(a)(0); });
    case BinaryOp::gt: return fn([](auto a, auto b) { return a > b ? decltype(a)(1) : decltype(a)(0); });
    case BinaryOp::relu_grad: return fn([](auto a, auto b) { return a > 0 ? b : decltype(a)(0); });
    case BinaryOp::sigmoid_grad: return fn([](auto y, auto g) { return g * y * (decltype(y)(1) - y); });
    case BinaryOp::tanh_grad:
      return fn([](auto y, auto g) {
        using T = decltype(y);
        return g * ((T(1) - y) * (T(1) + y));  // 1 - y^2 without cancellation near |y| = 1
      });
    case BinaryOp::gelu_grad:
      return fn([](auto x, auto g) {
        using T = decltype(x);
        T cdf = T(0.5) * std::erfc(-x * T(std::numbers::sqrt2 / 2));
        T pdf = std::exp(T(-0.5) * x * x) * T(0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
        return g * (cdf + x * pdf);
      });
    case BinaryOp::count: break;
  }
}

// Calls fn(f) with f(a, b) computing `op` on integers the way the reference backend does: in
// int64 (so that the store's narrowing wraps as the reference's does), division by zero giving 0,
// and the floating-only ops through double.
template <typename Fn>
void with_binary_int(BinaryOp op, Fn&& fn) {
  switch (op) {
    case BinaryOp::add: return fn([](int64_t a, int64_t b) { return a + b; });
    case BinaryOp::sub: return fn([](int64_t a, int64_t b) { return a - b; });
    case BinaryOp::mul: return fn([](int64_t a, int64_t b) { return a * b; });
    case BinaryOp::div: return fn([](int64_t a, int64_t b) { return b == 0 ? int64_t{0} : a / b; });
    case BinaryOp::maximum: return fn([](int64_t a, int64_t b) { return a > b ? a : b; });
    case BinaryOp::minimum: return fn([](int64_t a, int64_t b) { return a < b ? a : b; });
    case BinaryOp::eq: return fn([](int64_t a, int64_t b) { return static_cast<int64_t>(a == b); });
    case BinaryOp::gt: return fn([](int64_t a, int64_t b) { return static_cast<int64_t>(a > b); });
    default:
      return fn([op](int64_t a, int64_t b) {
        return static_cast<int64_t>(reference::apply_binary(op, static_cast<double>(a), static_cast<double>(b)));
      });
  }
}

}  // namespace dendrite::kernels::cpu
