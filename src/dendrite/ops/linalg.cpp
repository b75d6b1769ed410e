#include "dendrite/ops/linalg.h"

#include "dendrite/kernels/registry.h"
#include "dendrite/ops/checks.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/reduction.h"

namespace dendrite {

using kernels::dispatch;
using kernels::OpId;

namespace {

using Grads = std::vector<TensorBase>;

// out = a @ b (+ bias) for operands of rank >= 2 whose batch dimensions already agree.
Tensor matmul_kernel(const TensorBase& a, const TensorBase& b, const TensorBase& bias = {}) {
  Shape shape = a.shape();
  shape.back() = b.shape().back();
  Tensor out = empty(shape, a.dtype());
  dispatch<OpId::matmul>(a.dtype())(a, b, bias, out);
  return out;
}

Tensor transpose_last(const Tensor& t) { return t.transpose(-1, -2); }

// Matmul of rank >= 2 operands with broadcast batch dimensions; records its own backward.
Tensor matmul_nd(const Tensor& a, const Tensor& b) {
  Shape batch_a(a.shape().begin(), a.shape().end() - 2);
  Shape batch_b(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes("matmul", batch_a, batch_b);
  Shape shape_a = batch, shape_b = batch;
  shape_a.insert(shape_a.end(), a.shape().end() - 2, a.shape().end());
  shape_b.insert(shape_b.end(), b.shape().end() - 2, b.shape().end());
  Tensor y = matmul_kernel(broadcast_view(a, shape_a), broadcast_view(b, shape_b));
  if (autograd::should_record({&a, &b})) {
    bool need_a = a.requires_grad(), need_b = b.requires_grad();
    autograd::record("matmul", y, {a, b}, [a, b, shape_a, shape_b, need_a, need_b](const TensorBase& g) -> Grads {
      // ga = g @ b^T and gb = a^T @ g at the broadcast batch shape, then summed back.
      Tensor ga, gb;
      if (need_a) ga = sum_to_shape(matmul_kernel(g, transpose_last(broadcast_view(b, shape_b))), a.shape());
      if (need_b) gb = sum_to_shape(matmul_kernel(transpose_last(broadcast_view(a, shape_a)), g), b.shape());
      return {ga, gb};
    });
  }
  return y;
}

void check_operands(const char* op, const Tensor& a, const Tensor& b) {
  DENDRITE_CHECK(a.dim() >= 1 && b.dim() >= 1, "{}: operands must have at least one dimension, got {} and {}", op,
                 to_string(a.shape()), to_string(b.shape()));
  check_same_device(op, {&a, &b});
  DENDRITE_CHECK(a.dtype() == b.dtype(), "{}: dtypes differ: {} and {}", op, describe(a), describe(b));
  DENDRITE_CHECK(is_floating(a.dtype()), "{}: needs floating-point operands, got {}", op, describe(a));
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_operands("matmul", a, b);
  int64_t k_a = a.shape().back();
  int64_t k_b = b.dim() == 1 ? b.shape()[0] : b.shape()[static_cast<size_t>(b.dim() - 2)];
  DENDRITE_CHECK(k_a == k_b, "matmul: inner dimensions differ: {} x {}", to_string(a.shape()), to_string(b.shape()));
  // 1-D operands become a row (a) or a column (b), and that axis is dropped again from the result.
  Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a;
  Tensor b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
  Tensor y = matmul_nd(a2, b2);
  if (b.dim() == 1) y = y.squeeze(-1);
  if (a.dim() == 1) y = y.squeeze(b.dim() == 1 ? -1 : -2);
  return y;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_operands("linear", x, weight);
  DENDRITE_CHECK(weight.dim() == 2, "linear: weight must be [out, in], got {}", to_string(weight.shape()));
  DENDRITE_CHECK(x.shape().back() == weight.shape()[1], "linear: input features differ: {} x weight {}",
                 to_string(x.shape()), to_string(weight.shape()));
  if (bias.defined()) {
    DENDRITE_CHECK(bias.dim() == 1 && bias.shape()[0] == weight.shape()[0],
                   "linear: bias must be [{}], got {}", weight.shape()[0], to_string(bias.shape()));
    DENDRITE_CHECK(bias.dtype() == x.dtype(), "linear: dtypes differ: {} and bias {}", describe(x), describe(bias));
  }
  // Leading dimensions fold into one batch axis so that the kernel sees one 2-D product.
  Tensor x2 = x.dim() == 2 ? x : x.reshape({-1, x.shape().back()});
  Tensor y = matmul_kernel(x2, weight.t(), bias);
  if (autograd::should_record({&x2, &weight, &bias})) {
    bool need_x = x2.requires_grad(), need_w = weight.requires_grad();
    bool need_b = bias.defined() && bias.requires_grad();
    autograd::record("linear", y, {x2, weight, bias}, [x2, weight, need_x, need_w, need_b](const TensorBase& g) -> Grads {
      Tensor gx, gw, gb;
      if (need_x) gx = matmul_kernel(g, weight);
      if (need_w) gw = matmul_kernel(Tensor(g).t(), x2);
      if (need_b) gb = sum(Tensor(g), {0});
      return {gx, gw, gb};
    });
  }
  if (x.dim() == 2) return y;
  Shape shape = x.shape();
  shape.back() = weight.shape()[0];
  return y.reshape(shape);
}

}  // namespace dendrite
