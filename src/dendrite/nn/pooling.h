// 2-D max and average pooling on NCHW inputs (floor mode). The stride defaults to the kernel size,
// as in PyTorch: MaxPool2d(2) halves H and W.
#pragma once

#include "dendrite/nn/module.h"
#include "dendrite/nn/size2.h"

namespace dendrite::nn {

struct MaxPool2dOptions {
  Size2 stride = 0;  // 0: the kernel size
  Size2 padding = 0;
};

struct AvgPool2dOptions {
  Size2 stride = 0;  // 0: the kernel size
  Size2 padding = 0;
  bool count_include_pad = true;  // whether padded zeros count in the divisor
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Size2 kernel, MaxPool2dOptions options = {});
  Tensor forward(const Tensor& x) override;
  std::string name() const override;

 private:
  Size2 kernel_;
  MaxPool2dOptions options_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Size2 kernel, AvgPool2dOptions options = {});
  Tensor forward(const Tensor& x) override;
  std::string name() const override;

 private:
  Size2 kernel_;
  AvgPool2dOptions options_;
};

}  // namespace dendrite::nn
