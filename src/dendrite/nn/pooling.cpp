#include "dendrite/nn/pooling.h"

#include "dendrite/ops/pooling.h"

namespace dendrite::nn {

namespace {

// Checks the arguments both pools share; `stride` 0 means the kernel size.
void check_pool_args(const char* layer, Size2 kernel, Size2 stride, Size2 padding) {
  DENDRITE_CHECK(kernel.h > 0 && kernel.w > 0, "{}: kernel_size must be positive, got {}", layer, kernel.str());
  DENDRITE_CHECK(stride == Size2(0) || (stride.h > 0 && stride.w > 0),
                 "{}: stride must be positive (or 0 for the kernel size), got {}", layer, stride.str());
  DENDRITE_CHECK(padding.h >= 0 && padding.w >= 0, "{}: padding must be >= 0, got {}", layer, padding.str());
  DENDRITE_CHECK(padding.h <= kernel.h / 2 && padding.w <= kernel.w / 2,
                 "{}: padding {} must be at most half the kernel_size {}", layer, padding.str(), kernel.str());
}

std::string pool_name(const char* layer, Size2 kernel, Size2 stride, Size2 padding) {
  std::string s = fmt::format("{}({}", layer, kernel.str());
  if (stride != Size2(0) && stride != kernel) s += fmt::format(", stride={}", stride.str());
  if (padding != Size2(0)) s += fmt::format(", padding={}", padding.str());
  return s + ")";
}

void check_pool_input(const std::string& name, const Tensor& x, Size2 kernel, Size2 padding) {
  DENDRITE_CHECK(x.dim() == 4, "{}: expected a 4-D input [N, C, H, W], got {}", name, dendrite::to_string(x.shape()));
  DENDRITE_CHECK(x.shape()[2] + 2 * padding.h >= kernel.h && x.shape()[3] + 2 * padding.w >= kernel.w,
                 "{}: input {} is smaller than the kernel {} (padding {})", name, dendrite::to_string(x.shape()),
                 kernel.str(), padding.str());
}

}  // namespace

MaxPool2d::MaxPool2d(Size2 kernel, MaxPool2dOptions options) : kernel_(kernel), options_(options) {
  check_pool_args("MaxPool2d", kernel, options.stride, options.padding);
}

std::string MaxPool2d::name() const { return pool_name("MaxPool2d", kernel_, options_.stride, options_.padding); }

Tensor MaxPool2d::forward(const Tensor& x) {
  check_pool_input(name(), x, kernel_, options_.padding);
  return max_pool2d(x, kernel_.array(), options_.stride.array(), options_.padding.array());
}

AvgPool2d::AvgPool2d(Size2 kernel, AvgPool2dOptions options) : kernel_(kernel), options_(options) {
  check_pool_args("AvgPool2d", kernel, options.stride, options.padding);
}

std::string AvgPool2d::name() const { return pool_name("AvgPool2d", kernel_, options_.stride, options_.padding); }

Tensor AvgPool2d::forward(const Tensor& x) {
  check_pool_input(name(), x, kernel_, options_.padding);
  return avg_pool2d(x, kernel_.array(), options_.stride.array(), options_.padding.array(), options_.count_include_pad);
}

}  // namespace dendrite::nn
