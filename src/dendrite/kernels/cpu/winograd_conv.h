// 3x3 convolutions of stride 1 by Winograd's minimal filtering algorithm F(4x4, 3x3) (Lavin & Gray
// 2016, "Fast Algorithms for Convolutional Neural Networks", section 4): each 4x4 block of output
// is computed from a 6x6 block of input with 36 multiplies per pair of input and output channels
// where direct convolution needs 144, so the products (a batch of 36 small matrix products over
// the channels) do a quarter of the multiply-adds, plus a transform of each input and output block.
// The weights' transform is made once for weights declared constant (kernels/constant_operand.h:
// an inference session over frozen parameters) and on every call otherwise, from a few tiles up.
// W5's CNN at batch 1, whose 32 -> 64 channel layer oneDNN runs at ~90% of the FMA peak and which
// still took 40 of its 67 us (docs/performance.md, "W5"), went to ~41 us.
//
// Forward-only calls (inference, evaluation) only. In training it made a W2 step 4-14% faster
// (the layer's forward at batch 64: 2.7 -> 1.25 ms) with the same test accuracy over three seeds,
// but its rounding error (below), carried through a ReLU, a pooling and a second convolution,
// reached 1.7e-4 relative in that convolution's weight gradient, past the 1e-4 within which the
// conformance table holds every fast kernel to the reference (conv_relu_pool_conv_channels_last).
// Whether training may trade that accuracy for the time is a decision left open
// (docs/performance.md, W5).
//
// It runs in f32 under `--precision bf16` too, for constant weights only: W5's CNN took 45.0-45.8
// us (min) with oneDNN's bf16 direct convolution and 38.8-39.4 us with this one, while a bf16 W2
// training step ran as fast either way.
//
// Results differ from direct convolution by rounding: the transforms scale values by up to 8 and
// add terms of both signs, so the error is larger than a direct sum's (tests/kernels: at most
// 2e-6 of the sum of the terms' magnitudes against a convolution in double, on unit-scale data).
#pragma once

#include "dendrite/core/tensor_base.h"
#include "dendrite/kernels/params.h"

namespace dendrite::kernels::cpu {

// Fewer input channels than this go to oneDNN: the input transform runs 16 channels a vector, and
// a 1-channel layer would leave 15 of 16 lanes idle in it.
inline constexpr int64_t kWinogradMinInputChannels = 8;

// y [N, O, Ho, Wo] = conv3x3(x [N, C, H, W], w [O, C, 3, 3]) + bias [O], then ReLU when p.relu,
// when: p is stride 1, dilation 1, one group, forward only; x and y are f32 with their channels contiguous
// (channels-last); O is a multiple of 16 and C >= kWinogradMinInputChannels; w is contiguous, and
// declared constant on this thread or the output has enough tiles to pay for transforming it; and
// this CPU has AVX-512; under bf16 math (kernels/precision.h) only declared weights. Returns false, with
// nothing written, otherwise.
bool run_winograd_conv3x3(const TensorBase& x, const TensorBase& w, const TensorBase& bias, const Conv2dParams& p,
                          const TensorBase& y);

}  // namespace dendrite::kernels::cpu
