#include <cmath>
#include <numbers>

#include "dendrite/core/strided_loop.h"
#include "dendrite/kernels/reference/reference.h"

namespace dendrite::kernels::reference {

double apply_unary(UnaryOp op, double x) {
  switch (op) {
    case UnaryOp::neg: return -x;
    case UnaryOp::exp: return std::exp(x);
    case UnaryOp::log: return std::log(x);
    case UnaryOp::sqrt: return std::sqrt(x);
    case UnaryOp::rsqrt: return 1.0 / std::sqrt(x);
    case UnaryOp::abs: return std::abs(x);
    case UnaryOp::relu: return x > 0 ? x : 0.0;
    case UnaryOp::sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case UnaryOp::tanh: return std::tanh(x);
    case UnaryOp::gelu: return 0.5 * x * (1.0 + std::erf(x * std::numbers::sqrt2 / 2));
    case UnaryOp::erf: return std::erf(x);
    case UnaryOp::count: break;
  }
  return 0.0;
}

double apply_binary(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div: return a / b;
    case BinaryOp::pow: return std::pow(a, b);
    case BinaryOp::maximum: return a > b ? a : b;
    case BinaryOp::minimum: return a < b ? a : b;
    case BinaryOp::eq: return a == b ? 1.0 : 0.0;
    case BinaryOp::gt: return a > b ? 1.0 : 0.0;
    case BinaryOp::relu_grad: return a > 0 ? b : 0.0;
    case BinaryOp::sigmoid_grad: return b * a * (1.0 - a);
    case BinaryOp::tanh_grad: return b * (1.0 - a * a);
    case BinaryOp::gelu_grad: {
      double cdf = 0.5 * (1.0 + std::erf(a * std::numbers::sqrt2 / 2));
      double pdf = std::exp(-0.5 * a * a) / std::sqrt(2.0 * std::numbers::pi);
      return b * (cdf + a * pdf);
    }
    case BinaryOp::count: break;
  }
  return 0.0;
}

namespace {

template <typename T>
T* base(const TensorBase& t) {
  return static_cast<T*>(t.storage().data());
}

// Integers compute in int64 so that integer division and comparisons stay exact.
template <typename T>
using Compute = std::conditional_t<std::is_integral_v<T>, int64_t, double>;

int64_t apply_binary_int(BinaryOp op, int64_t a, int64_t b) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div: return b == 0 ? 0 : a / b;
    case BinaryOp::maximum: return a > b ? a : b;
    case BinaryOp::minimum: return a < b ? a : b;
    case BinaryOp::eq: return a == b;
    case BinaryOp::gt: return a > b;
    default: return static_cast<int64_t>(apply_binary(op, static_cast<double>(a), static_cast<double>(b)));
  }
}

void copy(const TensorBase& src, const TensorBase& dst) {
  visit_dtype(src.dtype(), [&](auto src_tag) {
    using S = decltype(src_tag);
    visit_dtype(dst.dtype(), [&](auto dst_tag) {
      using D = decltype(dst_tag);
      const S* s = base<S>(src);
      D* d = base<D>(dst);
      for_each_offset(dst.shape(), {src.strides(), dst.strides()}, [&](const int64_t* o) {
        d[dst.offset() + o[1]] = convert<D>(s[src.offset() + o[0]]);
      });
    });
  });
}

void fill(const TensorBase& dst, Scalar value) {
  visit_dtype(dst.dtype(), [&](auto tag) {
    using D = decltype(tag);
    D v = value.is_floating() ? convert<D>(value.to_double()) : convert<D>(value.to_int());
    D* d = base<D>(dst);
    for_each_offset(dst.shape(), {dst.strides()}, [&](const int64_t* o) { d[dst.offset() + o[0]] = v; });
  });
}

void unary(UnaryOp op, const TensorBase& x, const TensorBase& out) {
  visit_dtype(x.dtype(), [&](auto tag) {
    using D = decltype(tag);
    const D* s = base<D>(x);
    D* d = base<D>(out);
    for_each_offset(out.shape(), {x.strides(), out.strides()}, [&](const int64_t* o) {
      double v = apply_unary(op, convert<double>(s[x.offset() + o[0]]));
      d[out.offset() + o[1]] = convert<D>(v);
    });
  });
}

void binary(BinaryOp op, const TensorBase& a, const TensorBase& b, const TensorBase& out) {
  visit_dtype(a.dtype(), [&](auto tag) {
    using D = decltype(tag);
    const D* pa = base<D>(a);
    const D* pb = base<D>(b);
    D* d = base<D>(out);
    for_each_offset(out.shape(), {a.strides(), b.strides(), out.strides()}, [&](const int64_t* o) {
      auto va = convert<Compute<D>>(pa[a.offset() + o[0]]);
      auto vb = convert<Compute<D>>(pb[b.offset() + o[1]]);
      if constexpr (std::is_integral_v<D>) {
        d[out.offset() + o[2]] = static_cast<D>(apply_binary_int(op, va, vb));
      } else {
        d[out.offset() + o[2]] = convert<D>(apply_binary(op, va, vb));
      }
    });
  });
}

}  // namespace

void register_elementwise(Registry& registry) {
  auto all = {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i8, DType::u8, DType::i32, DType::i64};
  registry.add<OpId::copy>(Backend::reference, all, copy);
  registry.add<OpId::fill>(Backend::reference, all, fill);
  registry.add<OpId::unary>(Backend::reference, all, unary);
  registry.add<OpId::binary>(Backend::reference, all, binary);
}

}  // namespace dendrite::kernels::reference
