// Tensor: the user-facing handle. It is a TensorBase (shared storage + view) with the
// differentiable methods of PyTorch's Tensor: views, conversions, math and backward(). Every
// method is a thin call into an op family (ops/*.h), where forward and backward sit side by side.
#pragma once

#include <initializer_list>
#include <vector>

#include "dendrite/autograd/autograd.h"
#include "dendrite/core/scalar.h"
#include "dendrite/core/tensor_base.h"

namespace dendrite {

class Tensor : public TensorBase {
 public:
  Tensor() = default;
  Tensor(TensorBase base) : TensorBase(std::move(base)) {}  // NOLINT: kernels' results are Tensors

  // --- autograd ---
  bool requires_grad() const { return autograd::requires_grad(*this); }
  // Marks a leaf tensor as needing gradients; returns *this for chaining.
  const Tensor& requires_grad_(bool requires_grad = true) const;
  // The accumulated gradient (undefined before the first backward).
  Tensor grad() const;
  void set_grad(const Tensor& grad) const;  // set_grad({}) clears it, like `t.grad = None`
  void backward(const Tensor& grad = {}, bool retain_graph = false) const;
  // The same data with no history; shares storage.
  Tensor detach() const;
  bool is_leaf() const { return autograd::is_leaf(*this); }
  void register_hook(autograd::GradHook hook) const { autograd::register_hook(*this, std::move(hook)); }

  // --- views (no copy; differentiable) ---
  Tensor reshape(const Shape& shape) const;  // one axis may be -1; copies only when it must
  Tensor view(const Shape& shape) const;     // like reshape, but throws instead of copying
  Tensor flatten(int64_t start_axis = 0, int64_t end_axis = -1) const;
  Tensor transpose(int64_t axis0, int64_t axis1) const;
  Tensor t() const;  // transpose of a 2-D tensor
  Tensor permute(const std::vector<int64_t>& axes) const;
  Tensor slice(int64_t axis, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor narrow(int64_t axis, int64_t start, int64_t length) const;
  Tensor select(int64_t axis, int64_t index) const;  // removes the axis
  Tensor expand(const Shape& shape) const;           // size-1 axes broadcast with stride 0
  Tensor squeeze() const;
  Tensor squeeze(int64_t axis) const;
  Tensor unsqueeze(int64_t axis) const;
  Tensor contiguous() const;  // itself when already contiguous

  // --- conversion ---
  Tensor to(DType dtype) const;  // itself when already of that dtype
  Tensor clone() const;

  // --- math, as methods for PyTorch-style chaining ---
  Tensor matmul(const Tensor& other) const;
  Tensor sum(const std::vector<int64_t>& axes = {}, bool keepdim = false) const;
  Tensor mean(const std::vector<int64_t>& axes = {}, bool keepdim = false) const;
  Tensor max(const std::vector<int64_t>& axes = {}, bool keepdim = false) const;
  Tensor argmax(int64_t axis, bool keepdim = false) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor pow(Scalar exponent) const;
  Tensor neg() const;
};

}  // namespace dendrite
