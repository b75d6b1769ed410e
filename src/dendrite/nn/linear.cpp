#include "dendrite/nn/linear.h"

#include <cmath>

#include "dendrite/nn/init.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/linalg.h"

namespace dendrite::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool with_bias) : in_(in_features), out_(out_features) {
  DENDRITE_CHECK(in_features > 0, "Linear: in_features must be positive, got {}", in_features);
  DENDRITE_CHECK(out_features > 0, "Linear: out_features must be positive, got {}", out_features);
  weight = register_parameter("weight", empty({out_, in_}));
  if (with_bias) bias = register_parameter("bias", empty({out_}));
  reset_parameters();
}

void Linear::reset_parameters(Generator& gen) {
  // a = sqrt(5) gives gain sqrt(1/3), so the kaiming bound sqrt(3) * gain / sqrt(fan_in) is
  // exactly 1 / sqrt(fan_in).
  init::kaiming_uniform_(weight, {.a = std::sqrt(5.0)}, gen);
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_));
    init::uniform_(bias, -bound, bound, gen);
  }
}

std::string Linear::name() const {
  return bias.defined() ? fmt::format("Linear({} -> {})", in_, out_)
                        : fmt::format("Linear({} -> {}, bias=false)", in_, out_);
}

Tensor Linear::forward(const Tensor& x) {
  DENDRITE_CHECK(x.dim() >= 1, "{}: input {} has no feature axis", name(), dendrite::to_string(x.shape()));
  DENDRITE_CHECK(x.shape().back() == in_, "{}: input {} has {} features, expected {}", name(),
                 dendrite::to_string(x.shape()), x.shape().back(), in_);
  DENDRITE_CHECK(x.dtype() == weight.dtype(), "{}: input is {} but the weight is {}", name(), describe(x),
                 describe(weight));
  return linear(x, weight, bias);
}

}  // namespace dendrite::nn
