// 2-D convolution on NCHW tensors with OIHW weights (PyTorch's layout), any stride, padding,
// dilation and groups. Backward: data and weight gradients from their own kernels.
#pragma once

#include "dendrite/kernels/params.h"
#include "dendrite/ops/tensor.h"

namespace dendrite {

using kernels::Conv2dParams;

// x [N, C, H, W], weight [O, C / groups, kh, kw], bias [O] or undefined -> [N, O, Ho, Wo].
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, const Conv2dParams& params = {});

// relu(conv2d(x, weight, bias, params)) with the ReLU inside the convolution kernel (a oneDNN
// post-op): no pass of its own over the output and no tensor in between. The backward masks the
// gradient where the output is 0, then runs the convolution's backward.
Tensor conv2d_relu(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, const Conv2dParams& params = {});

}  // namespace dendrite
