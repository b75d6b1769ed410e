// Losses composed of differentiable ops, so their gradients come from the ops' own backward.
#include "dendrite/nn/losses.h"

#include "dendrite/ops/elementwise.h"
#include "dendrite/ops/reduction.h"

namespace dendrite::nn {

namespace {

void check_pair(const char* op, const char* a_name, const Tensor& a, const char* b_name, const Tensor& b) {
  DENDRITE_CHECK(a.shape() == b.shape(), "{}: {} {} and {} {} differ in shape", op, a_name, to_string(a.shape()),
                 b_name, to_string(b.shape()));
  DENDRITE_CHECK(a.dtype() == b.dtype(), "{}: dtypes differ: {} {} and {} {}", op, a_name, describe(a), b_name,
                 describe(b));
  DENDRITE_CHECK(is_floating(a.dtype()), "{}: needs floating-point tensors, got {} {}", op, a_name, describe(a));
}

Tensor reduce(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::none: return loss;
    case Reduction::sum: return sum(loss);
    case Reduction::mean: return mean(loss);
  }
  return loss;
}

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_pair("mse_loss", "input", input, "target", target);
  Tensor diff = input - target;
  return reduce(diff * diff, reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets, Reduction reduction) {
  check_pair("binary_cross_entropy_with_logits", "logits", logits, "targets", targets);
  // -|x| is written min(x, -x) rather than -abs(x): minimum sends the gradient of a tie to its
  // first operand, so at x = 0 the chain rule gives d/dx = 0 (relu) + 0.5 * 1 - y = sigmoid(0) - y,
  // the true derivative, where abs's zero subgradient would give -y. Logits of exactly 0 are common
  // (a zero-initialised last layer).
  Tensor negative_abs = minimum(logits, -logits);
  return reduce(relu(logits) - logits * targets + log(1.0 + exp(negative_abs)), reduction);
}

}  // namespace dendrite::nn
