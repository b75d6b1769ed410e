// Weight initialisation (torch.nn.init): each function fills a tensor in place, without recording
// history, drawing from `gen` in row-major order so a seeded run is reproducible.
//
// Kaiming (He et al. 2015, "Delving Deep into Rectifiers") keeps the variance of activations
// (fan_in) or of gradients (fan_out) constant through layers followed by the given nonlinearity:
// std = gain / sqrt(fan). Xavier (Glorot & Bengio 2010) balances both: std = gain * sqrt(2 / (fan_in
// + fan_out)). Fans follow PyTorch: for a weight [out, in, k...], fan_in = in * prod(k) and
// fan_out = out * prod(k).
#pragma once

#include <utility>

#include "dendrite/core/random.h"
#include "dendrite/ops/tensor.h"

namespace dendrite::nn::init {

enum class Nonlinearity { linear, sigmoid, tanh, relu, leaky_relu };
enum class FanMode { fan_in, fan_out };

// The recommended gain for a nonlinearity (torch.nn.init.calculate_gain); `param` is leaky_relu's
// negative slope.
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);
// {fan_in, fan_out} of a weight of rank >= 2; throws naming the shape otherwise.
std::pair<int64_t, int64_t> fans(const Shape& shape);

struct KaimingOptions {
  double a = 0.0;  // negative slope of the leaky_relu that follows (0: plain relu)
  FanMode mode = FanMode::fan_in;
  Nonlinearity nonlinearity = Nonlinearity::leaky_relu;
};

void kaiming_uniform_(const Tensor& t, const KaimingOptions& options = {}, Generator& gen = default_generator());
void kaiming_normal_(const Tensor& t, const KaimingOptions& options = {}, Generator& gen = default_generator());
void xavier_uniform_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());
void xavier_normal_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());
void uniform_(const Tensor& t, double low, double high, Generator& gen = default_generator());
void normal_(const Tensor& t, double mean = 0.0, double stddev = 1.0, Generator& gen = default_generator());
void constant_(const Tensor& t, double value);
void zeros_(const Tensor& t);
void ones_(const Tensor& t);

}  // namespace dendrite::nn::init
