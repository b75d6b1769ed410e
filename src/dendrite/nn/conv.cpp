#include "dendrite/nn/conv.h"

#include <cmath>

#include "dendrite/nn/init.h"
#include "dendrite/ops/conv.h"
#include "dendrite/ops/creation.h"

namespace dendrite::nn {

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel, Conv2dOptions options)
    : in_(in_channels), out_(out_channels), kernel_(kernel), options_(options) {
  const auto& o = options_;
  DENDRITE_CHECK(in_channels > 0, "Conv2d: in_channels must be positive, got {}", in_channels);
  DENDRITE_CHECK(out_channels > 0, "Conv2d: out_channels must be positive, got {}", out_channels);
  DENDRITE_CHECK(kernel.h > 0 && kernel.w > 0, "Conv2d: kernel_size must be positive, got {}", kernel.str());
  DENDRITE_CHECK(o.stride.h > 0 && o.stride.w > 0, "Conv2d: stride must be positive, got {}", o.stride.str());
  DENDRITE_CHECK(o.padding.h >= 0 && o.padding.w >= 0, "Conv2d: padding must be >= 0, got {}", o.padding.str());
  DENDRITE_CHECK(o.dilation.h > 0 && o.dilation.w > 0, "Conv2d: dilation must be positive, got {}", o.dilation.str());
  DENDRITE_CHECK(o.groups > 0, "Conv2d: groups must be positive, got {}", o.groups);
  DENDRITE_CHECK(in_channels % o.groups == 0, "Conv2d: in_channels {} is not divisible by groups {}", in_channels,
                 o.groups);
  DENDRITE_CHECK(out_channels % o.groups == 0, "Conv2d: out_channels {} is not divisible by groups {}", out_channels,
                 o.groups);
  weight = register_parameter("weight", empty({out_, in_ / o.groups, kernel.h, kernel.w}));
  if (o.bias) bias = register_parameter("bias", empty({out_}));
  reset_parameters();
}

void Conv2d::reset_parameters(Generator& gen) {
  init::kaiming_uniform_(weight, {.a = std::sqrt(5.0)}, gen);
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(init::fans(weight.shape()).first));
    init::uniform_(bias, -bound, bound, gen);
  }
}

std::string Conv2d::name() const {
  const auto& o = options_;
  std::string s = fmt::format("Conv2d({} -> {}, kernel={}", in_, out_, kernel_.str());
  if (o.stride != Size2(1)) s += fmt::format(", stride={}", o.stride.str());
  if (o.padding != Size2(0)) s += fmt::format(", padding={}", o.padding.str());
  if (o.dilation != Size2(1)) s += fmt::format(", dilation={}", o.dilation.str());
  if (o.groups != 1) s += fmt::format(", groups={}", o.groups);
  if (!o.bias) s += ", bias=false";
  return s + ")";
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, checked_params(x)); }

Tensor Conv2d::forward_relu(const Tensor& x) { return conv2d_relu(x, weight, bias, checked_params(x)); }

Conv2dParams Conv2d::checked_params(const Tensor& x) const {
  DENDRITE_CHECK(x.dim() == 4, "{}: expected a 4-D input [N, C, H, W], got {}", name(), dendrite::to_string(x.shape()));
  DENDRITE_CHECK(x.shape()[1] == in_, "{}: input {} has {} channels, expected {}", name(),
                 dendrite::to_string(x.shape()), x.shape()[1], in_);
  DENDRITE_CHECK(x.dtype() == weight.dtype(), "{}: input is {} but the weight is {}", name(), describe(x),
                 describe(weight));
  const auto& o = options_;
  // A kernel larger than the padded input leaves no output positions.
  const int64_t span_h = o.dilation.h * (kernel_.h - 1) + 1, span_w = o.dilation.w * (kernel_.w - 1) + 1;
  DENDRITE_CHECK(x.shape()[2] + 2 * o.padding.h >= span_h && x.shape()[3] + 2 * o.padding.w >= span_w,
                 "{}: input {} is smaller than the kernel (padded input {}x{}, kernel span {}x{})", name(),
                 dendrite::to_string(x.shape()), x.shape()[2] + 2 * o.padding.h, x.shape()[3] + 2 * o.padding.w, span_h,
                 span_w);
  return {.stride = o.stride.array(), .padding = o.padding.array(), .dilation = o.dilation.array(), .groups = o.groups};
}

}  // namespace dendrite::nn
