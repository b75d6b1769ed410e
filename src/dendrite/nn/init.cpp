// Initialisers: the bounds and standard deviations of PyTorch's torch.nn.init, so that recipes
// written for PyTorch start from the same distributions.
#include "dendrite/nn/init.h"

#include <cmath>

#include "dendrite/autograd/autograd.h"
#include "dendrite/ops/elementwise.h"

namespace dendrite::nn::init {

namespace {

void check_floating(const char* op, const Tensor& t) {
  DENDRITE_CHECK(t.defined(), "{}: tensor is undefined", op);
  DENDRITE_CHECK(is_floating(t.dtype()), "{}: needs a floating-point tensor, got {}", op, describe(t));
}

double kaiming_std(const char* op, const Tensor& t, const KaimingOptions& o) {
  check_floating(op, t);
  auto [fan_in, fan_out] = fans(t.shape());
  const int64_t fan = o.mode == FanMode::fan_in ? fan_in : fan_out;
  DENDRITE_CHECK(fan > 0, "{}: weight {} has a zero fan", op, to_string(t.shape()));
  return calculate_gain(o.nonlinearity, o.a) / std::sqrt(static_cast<double>(fan));
}

double xavier_std(const char* op, const Tensor& t, double gain) {
  check_floating(op, t);
  auto [fan_in, fan_out] = fans(t.shape());
  DENDRITE_CHECK(fan_in + fan_out > 0, "{}: weight {} has zero fans", op, to_string(t.shape()));
  return gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
}

}  // namespace

double calculate_gain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
    case Nonlinearity::linear:
    case Nonlinearity::sigmoid: return 1.0;
    case Nonlinearity::tanh: return 5.0 / 3.0;
    case Nonlinearity::relu: return std::sqrt(2.0);
    case Nonlinearity::leaky_relu: return std::sqrt(2.0 / (1.0 + param * param));
  }
  return 1.0;
}

std::pair<int64_t, int64_t> fans(const Shape& shape) {
  DENDRITE_CHECK(shape.size() >= 2, "init: fans need a weight of rank >= 2, got {}", to_string(shape));
  int64_t receptive = 1;
  for (size_t i = 2; i < shape.size(); ++i) receptive *= shape[i];
  return {shape[1] * receptive, shape[0] * receptive};
}

// A uniform on [-b, b] has standard deviation b / sqrt(3).
void kaiming_uniform_(const Tensor& t, const KaimingOptions& options, Generator& gen) {
  const double bound = std::sqrt(3.0) * kaiming_std("kaiming_uniform_", t, options);
  fill_uniform(t, -bound, bound, gen);
}

void kaiming_normal_(const Tensor& t, const KaimingOptions& options, Generator& gen) {
  fill_normal(t, 0.0, kaiming_std("kaiming_normal_", t, options), gen);
}

void xavier_uniform_(const Tensor& t, double gain, Generator& gen) {
  const double bound = std::sqrt(3.0) * xavier_std("xavier_uniform_", t, gain);
  fill_uniform(t, -bound, bound, gen);
}

void xavier_normal_(const Tensor& t, double gain, Generator& gen) {
  fill_normal(t, 0.0, xavier_std("xavier_normal_", t, gain), gen);
}

void uniform_(const Tensor& t, double low, double high, Generator& gen) {
  check_floating("uniform_", t);
  fill_uniform(t, low, high, gen);
}

void normal_(const Tensor& t, double mean, double stddev, Generator& gen) {
  check_floating("normal_", t);
  fill_normal(t, mean, stddev, gen);
}

void constant_(const Tensor& t, double value) {
  check_floating("constant_", t);
  // Initialising a parameter is not part of the model's computation.
  autograd::NoGradGuard no_grad;
  fill_(t, value);
}

void zeros_(const Tensor& t) { constant_(t, 0.0); }
void ones_(const Tensor& t) { constant_(t, 1.0); }

}  // namespace dendrite::nn::init
