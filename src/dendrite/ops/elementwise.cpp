// Elementwise ops: forward through the unary/binary kernels, backward beside each forward.
#include "dendrite/ops/elementwise.h"

#include <cmath>
#include <numbers>

#include "dendrite/core/memory_format.h"
#include "dendrite/kernels/registry.h"
#include "dendrite/ops/checks.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/reduction.h"

namespace dendrite {

using kernels::BinaryOp;
using kernels::dispatch;
using kernels::OpId;
using kernels::UnaryOp;

namespace {

using Grads = std::vector<TensorBase>;

void check_floating(const char* op, const Tensor& x) {
  DENDRITE_CHECK(is_floating(x.dtype()), "{}: needs a floating-point tensor, got {}", op, describe(x));
}

// Outputs keep a channels-last input's format (core/memory_format.h), so an activation between
// two convolutions does not make the second one reorder.
Tensor unary_kernel(UnaryOp op, const Tensor& x) {
  Tensor out(empty_in(memory_format_of(x), x.shape(), x.dtype()));
  dispatch<OpId::unary>(x.dtype())(op, x, out);
  return out;
}

// Channels-last when the operands of the output's full shape are all channels-last (broadcast ones
// do not count: x * scale keeps x's format); otherwise contiguous.
MemoryFormat binary_format(const Tensor& a, const Tensor& b, const Shape& shape) {
  const bool a_full = a.shape() == shape, b_full = b.shape() == shape;
  const auto last = [](const Tensor& t) { return memory_format_of(t) == MemoryFormat::channels_last; };
  const bool channels_last = (a_full || b_full) && (!a_full || last(a)) && (!b_full || last(b));
  return channels_last ? MemoryFormat::channels_last : MemoryFormat::contiguous;
}

Tensor binary_kernel(const char* name, BinaryOp op, const Tensor& a, const Tensor& b) {
  check_same_device(name, {&a, &b});
  DENDRITE_CHECK(a.dtype() == b.dtype(), "{}: dtypes differ: {} and {}", name, describe(a), describe(b));
  Shape shape = broadcast_shapes(name, a.shape(), b.shape());
  Tensor out(empty_in(binary_format(a, b, shape), shape, a.dtype()));
  dispatch<OpId::binary>(a.dtype())(op, broadcast_view(a, shape), broadcast_view(b, shape), out);
  return out;
}

// Runs a float-only unary op and records its backward, which receives (x, y = output, g).
template <typename Backward>
Tensor unary_op(const char* name, UnaryOp op, const Tensor& x, Backward backward) {
  check_floating(name, x);
  Tensor y = unary_kernel(op, x);
  if (autograd::should_record({&x})) {
    Tensor saved_y = y.alias();  // an alias: the node must not own its own output's record
    autograd::record(name, y, {x}, [x, saved_y, backward](const TensorBase& g) -> Grads {
      return {backward(x, saved_y, Tensor(g))};
    });
  }
  return y;
}

// Runs a binary op and records a backward returning {grad_a, grad_b} at the broadcast shape; they
// are summed back to each operand's shape here.
template <typename Backward>
Tensor binary_op(const char* name, BinaryOp op, const Tensor& a, const Tensor& b, Backward backward) {
  Tensor y = binary_kernel(name, op, a, b);
  if (autograd::should_record({&a, &b})) {
    bool need_a = a.requires_grad(), need_b = b.requires_grad();
    autograd::record(name, y, {a, b}, [a, b, need_a, need_b, backward](const TensorBase& g) -> Grads {
      auto [ga, gb] = backward(a, b, Tensor(g), need_a, need_b);
      return {need_a ? sum_to_shape(ga, a.shape()) : Tensor(), need_b ? sum_to_shape(gb, b.shape()) : Tensor()};
    });
  }
  return y;
}

Tensor scalar_like(Scalar value, const Tensor& like) { return scalar_tensor(value, like.dtype()); }

void check_in_place(const char* op, const Tensor& dst) {
  DENDRITE_CHECK(!(autograd::is_grad_enabled() && dst.requires_grad()),
                 "{}: in-place update of {} which requires grad; do it under NoGradGuard", op, describe(dst));
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  return binary_op("add", BinaryOp::add, a, b, [](const Tensor&, const Tensor&, const Tensor& g, bool, bool) {
    return std::pair{g, g};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  return binary_op("sub", BinaryOp::sub, a, b, [](const Tensor&, const Tensor&, const Tensor& g, bool, bool need_b) {
    return std::pair{g, need_b ? neg(g) : Tensor()};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  return binary_op("mul", BinaryOp::mul, a, b, [](const Tensor& a, const Tensor& b, const Tensor& g, bool need_a, bool need_b) {
    return std::pair{need_a ? mul(g, b) : Tensor(), need_b ? mul(g, a) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  return binary_op("div", BinaryOp::div, a, b, [](const Tensor& a, const Tensor& b, const Tensor& g, bool need_a, bool need_b) {
    return std::pair{need_a ? div(g, b) : Tensor(), need_b ? neg(div(mul(g, a), mul(b, b))) : Tensor()};
  });
}

Tensor pow(const Tensor& a, const Tensor& b) {
  check_floating("pow", a);
  return binary_op("pow", BinaryOp::pow, a, b, [](const Tensor& a, const Tensor& b, const Tensor& g, bool need_a, bool need_b) {
    Tensor ga, gb;
    if (need_a) ga = mul(g, mul(b, pow(a, sub(b, scalar_like(1, b)))));
    if (need_b) gb = mul(g, mul(log(a), pow(a, b)));
    return std::pair{ga, gb};
  });
}

Tensor pow(const Tensor& a, Scalar exponent) {
  check_floating("pow", a);
  Tensor e = scalar_like(exponent, a);
  Tensor y = binary_kernel("pow", BinaryOp::pow, a, e);
  if (autograd::should_record({&a})) {
    double p = exponent.to_double();
    autograd::record("pow", y, {a}, [a, p](const TensorBase& g) -> Grads {
      return {mul(Tensor(g), mul(pow(a, p - 1), scalar_like(p, a)))};
    });
  }
  return y;
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary_op("maximum", BinaryOp::maximum, a, b, [](const Tensor& a, const Tensor& b, const Tensor& g, bool, bool) {
    Tensor b_wins = gt(b, a);  // ties go to a
    return std::pair{mul(g, sub(scalar_like(1, g), b_wins)), mul(g, b_wins)};
  });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary_op("minimum", BinaryOp::minimum, a, b, [](const Tensor& a, const Tensor& b, const Tensor& g, bool, bool) {
    Tensor b_wins = gt(a, b);  // ties go to a
    return std::pair{mul(g, sub(scalar_like(1, g), b_wins)), mul(g, b_wins)};
  });
}

Tensor eq(const Tensor& a, const Tensor& b) { return binary_kernel("eq", BinaryOp::eq, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_kernel("gt", BinaryOp::gt, a, b); }

Tensor neg(const Tensor& x) {
  Tensor y = unary_kernel(UnaryOp::neg, x);
  if (autograd::should_record({&x})) {
    autograd::record("neg", y, {x}, [](const TensorBase& g) -> Grads { return {neg(Tensor(g))}; });
  }
  return y;
}

Tensor exp(const Tensor& x) {
  return unary_op("exp", UnaryOp::exp, x, [](const Tensor&, const Tensor& y, const Tensor& g) { return mul(g, y); });
}

Tensor log(const Tensor& x) {
  return unary_op("log", UnaryOp::log, x, [](const Tensor& x, const Tensor&, const Tensor& g) { return div(g, x); });
}

Tensor sqrt(const Tensor& x) {
  return unary_op("sqrt", UnaryOp::sqrt, x, [](const Tensor&, const Tensor& y, const Tensor& g) {
    return div(g, mul(y, scalar_like(2, y)));
  });
}

Tensor rsqrt(const Tensor& x) {
  return unary_op("rsqrt", UnaryOp::rsqrt, x, [](const Tensor&, const Tensor& y, const Tensor& g) {
    return mul(g, mul(mul(y, mul(y, y)), scalar_like(-0.5, y)));
  });
}

Tensor abs(const Tensor& x) {
  return unary_op("abs", UnaryOp::abs, x, [](const Tensor& x, const Tensor&, const Tensor& g) {
    Tensor zero = scalar_like(0, x);
    return mul(g, sub(gt(x, zero), gt(zero, x)));  // sign(x), 0 at 0
  });
}

Tensor relu(const Tensor& x) {
  return unary_op("relu", UnaryOp::relu, x, [](const Tensor& x, const Tensor&, const Tensor& g) {
    return binary_kernel("relu_backward", BinaryOp::relu_grad, x, g);
  });
}

Tensor sigmoid(const Tensor& x) {
  return unary_op("sigmoid", UnaryOp::sigmoid, x, [](const Tensor&, const Tensor& y, const Tensor& g) {
    return binary_kernel("sigmoid_backward", BinaryOp::sigmoid_grad, y, g);
  });
}

Tensor tanh(const Tensor& x) {
  return unary_op("tanh", UnaryOp::tanh, x, [](const Tensor&, const Tensor& y, const Tensor& g) {
    return binary_kernel("tanh_backward", BinaryOp::tanh_grad, y, g);
  });
}

Tensor gelu(const Tensor& x) {
  return unary_op("gelu", UnaryOp::gelu, x, [](const Tensor& x, const Tensor&, const Tensor& g) {
    return binary_kernel("gelu_backward", BinaryOp::gelu_grad, x, g);
  });
}

Tensor erf(const Tensor& x) {
  return unary_op("erf", UnaryOp::erf, x, [](const Tensor& x, const Tensor&, const Tensor& g) {
    // d/dx erf(x) = 2 / sqrt(pi) * exp(-x^2)
    return mul(g, mul(exp(neg(mul(x, x))), scalar_like(2.0 / std::sqrt(std::numbers::pi), x)));
  });
}

void add_(const Tensor& dst, const Tensor& src, Scalar alpha) {
  check_in_place("add_", dst);
  Shape shape = broadcast_shapes("add_", dst.shape(), src.shape());
  DENDRITE_CHECK(shape == dst.shape(), "add_: {} cannot be broadcast into {}", describe(src), describe(dst));
  DENDRITE_CHECK(dst.dtype() == src.dtype(), "add_: dtypes differ: {} and {}", describe(dst), describe(src));
  Tensor scaled = alpha.to_double() == 1.0 ? src : binary_kernel("add_", BinaryOp::mul, src, scalar_like(alpha, src));
  dispatch<OpId::binary>(dst.dtype())(BinaryOp::add, dst, broadcast_view(scaled, shape), dst);
}

void mul_(const Tensor& dst, Scalar factor) {
  check_in_place("mul_", dst);
  dispatch<OpId::binary>(dst.dtype())(BinaryOp::mul, dst, broadcast_view(scalar_like(factor, dst), dst.shape()), dst);
}

void fill_(const Tensor& dst, Scalar value) {
  check_in_place("fill_", dst);
  dispatch<OpId::fill>(dst.dtype())(dst, value);
}

void copy_(const Tensor& dst, const Tensor& src) {
  check_in_place("copy_", dst);
  Shape shape = broadcast_shapes("copy_", dst.shape(), src.shape());
  DENDRITE_CHECK(shape == dst.shape(), "copy_: {} cannot be broadcast into {}", describe(src), describe(dst));
  dispatch<OpId::copy>(src.dtype())(broadcast_view(src, shape), dst);
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, Scalar b) { return add(a, scalar_like(b, a)); }
Tensor operator-(const Tensor& a, Scalar b) { return sub(a, scalar_like(b, a)); }
Tensor operator*(const Tensor& a, Scalar b) { return mul(a, scalar_like(b, a)); }
Tensor operator/(const Tensor& a, Scalar b) { return div(a, scalar_like(b, a)); }
Tensor operator+(Scalar a, const Tensor& b) { return add(scalar_like(a, b), b); }
Tensor operator-(Scalar a, const Tensor& b) { return sub(scalar_like(a, b), b); }
Tensor operator*(Scalar a, const Tensor& b) { return mul(scalar_like(a, b), b); }
Tensor operator/(Scalar a, const Tensor& b) { return div(scalar_like(a, b), b); }

}  // namespace dendrite
