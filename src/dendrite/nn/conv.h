// Conv2d: 2-D convolution on NCHW inputs with an OIHW weight (PyTorch's layout).
//
//   Conv2d(1, 32, 3)                            // 3x3, stride 1, no padding
//   Conv2d(32, 64, 3, {.stride = 2, .padding = 1})
//   Conv2d(64, 64, {1, 7}, {.padding = {0, 3}, .groups = 4, .bias = false})
#pragma once

#include "dendrite/core/random.h"
#include "dendrite/kernels/params.h"
#include "dendrite/nn/module.h"
#include "dendrite/nn/size2.h"

namespace dendrite::nn {

struct Conv2dOptions {
  Size2 stride = 1;
  Size2 padding = 0;
  Size2 dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

class Conv2d : public Module {
 public:
  // Initialised as PyTorch does: kaiming_uniform_(a = sqrt(5)) for the weight and
  // U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias, fan_in = in / groups * kh * kw.
  Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel, Conv2dOptions options = {});
  void reset_parameters(Generator& gen = default_generator());

  Tensor forward(const Tensor& x) override;
  // relu(forward(x)), with the ReLU fused into the convolution (ops/conv.h, conv2d_relu).
  // Sequential calls it for a Conv2d followed by a ReLU.
  Tensor forward_relu(const Tensor& x);
  std::string name() const override;

  int64_t in_channels() const { return in_; }
  int64_t out_channels() const { return out_; }
  Size2 kernel_size() const { return kernel_; }
  const Conv2dOptions& options() const { return options_; }

  Tensor weight;  // [out, in / groups, kh, kw]
  Tensor bias;    // [out], undefined without bias

 private:
  // Checks x against the layer and returns the op's parameters.
  kernels::Conv2dParams checked_params(const Tensor& x) const;

  int64_t in_;
  int64_t out_;
  Size2 kernel_;
  Conv2dOptions options_;
};

}  // namespace dendrite::nn
