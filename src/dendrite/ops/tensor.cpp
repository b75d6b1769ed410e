#include "dendrite/ops/tensor.h"

#include "dendrite/ops/elementwise.h"
#include "dendrite/ops/linalg.h"
#include "dendrite/ops/reduction.h"

namespace dendrite {

const Tensor& Tensor::requires_grad_(bool requires_grad) const {
  autograd::set_requires_grad(*this, requires_grad);
  return *this;
}

Tensor Tensor::grad() const {
  const autograd::AutogradMeta* m = autograd::meta(*this);
  return m != nullptr ? Tensor(m->grad) : Tensor();
}

void Tensor::set_grad(const Tensor& grad) const {
  DENDRITE_CHECK(!grad.defined() || grad.shape() == shape(), "set_grad: gradient {} does not match tensor {}",
                 describe(grad), describe(*this));
  autograd::ensure_meta(*this).grad = grad;
}

void Tensor::backward(const Tensor& grad, bool retain_graph) const { autograd::backward(*this, grad, retain_graph); }

Tensor Tensor::detach() const { return Tensor(alias()); }

Tensor Tensor::matmul(const Tensor& other) const { return dendrite::matmul(*this, other); }
Tensor Tensor::sum(const std::vector<int64_t>& axes, bool keepdim) const { return dendrite::sum(*this, axes, keepdim); }
Tensor Tensor::mean(const std::vector<int64_t>& axes, bool keepdim) const { return dendrite::mean(*this, axes, keepdim); }
Tensor Tensor::max(const std::vector<int64_t>& axes, bool keepdim) const { return dendrite::max(*this, axes, keepdim); }
Tensor Tensor::argmax(int64_t axis, bool keepdim) const { return dendrite::argmax(*this, axis, keepdim); }
Tensor Tensor::exp() const { return dendrite::exp(*this); }
Tensor Tensor::log() const { return dendrite::log(*this); }
Tensor Tensor::sqrt() const { return dendrite::sqrt(*this); }
Tensor Tensor::relu() const { return dendrite::relu(*this); }
Tensor Tensor::sigmoid() const { return dendrite::sigmoid(*this); }
Tensor Tensor::tanh() const { return dendrite::tanh(*this); }
Tensor Tensor::pow(Scalar exponent) const { return dendrite::pow(*this, exponent); }
Tensor Tensor::neg() const { return dendrite::neg(*this); }

}  // namespace dendrite
