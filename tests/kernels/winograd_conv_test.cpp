// The cpu kernel's Winograd F(4x4, 3x3) convolution (kernels/cpu/winograd_conv.h) against a direct
// convolution in double: channel counts on and off the vector width, images whose sides are and
// are not multiples of the 4x4 output tiles, padding, bias and ReLU, several images, many tiles
// split across threads; and the convolutions it must leave to oneDNN.
#include "dendrite/kernels/cpu/winograd_conv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "dendrite/core/memory_format.h"
#include "dendrite/core/threading.h"
#include "dendrite/kernels/constant_operand.h"
#include "support/tensors.h"

namespace dendrite::kernels::cpu {
namespace {

using test_support::at;
using test_support::randn;

// Random [N, C, H, W] values stored channels-last.
TensorBase channels_last_randn(int64_t N, int64_t C, int64_t H, int64_t W, Generator& gen) {
  return randn({N, H, W, C}, gen).as_strided({N, C, H, W}, {H * W * C, 1, W * C, C}, 0);
}

float element(const TensorBase& t, int64_t n, int64_t c, int64_t h, int64_t w) {
  return static_cast<const float*>(t.raw_data())[n * t.stride(0) + c * t.stride(1) + h * t.stride(2) + w * t.stride(3)];
}

Conv2dParams inference(int64_t pad, bool relu = false) {
  Conv2dParams p;
  p.padding = {pad, pad};
  p.forward_only = true;
  p.relu = relu;
  return p;
}

// Compares y with the direct convolution summed in double. The transforms multiply values by up
// to 8 and cancel terms of both signs, so the bound is 1e-5 of the sum of |terms| where a direct
// f32 sum keeps to 1e-6 (row_products_test.cpp); the worst error over these cases was 2.0e-6.
void expect_convolution(const TensorBase& x, const TensorBase& w, const TensorBase& bias, const Conv2dParams& p,
                        const TensorBase& y) {
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t O = y.shape()[1], Ho = y.shape()[2], Wo = y.shape()[3];
  int64_t bad = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t i = 0; i < Ho; ++i)
        for (int64_t j = 0; j < Wo; ++j) {
          double sum = bias.defined() ? at(bias, o) : 0.0, magnitude = std::abs(sum);
          for (int64_t c = 0; c < C; ++c)
            for (int64_t a = 0; a < 3; ++a)
              for (int64_t b = 0; b < 3; ++b) {
                const int64_t h = i + a - p.padding[0], v = j + b - p.padding[1];
                if (h < 0 || h >= H || v < 0 || v >= W) continue;
                const double term = double{element(x, n, c, h, v)} * at(w, ((o * C + c) * 3 + a) * 3 + b);
                sum += term;
                magnitude += std::abs(term);
              }
          if (p.relu) sum = std::max(sum, 0.0);
          const double got = element(y, n, o, i, j), error = std::abs(got - sum) / (1.0 + magnitude);
          if (!(error <= 1e-5) && ++bad <= 5)
            ADD_FAILURE() << "y[" << n << ", " << o << ", " << i << ", " << j << "] = " << got << ", want " << sum;
        }
  EXPECT_EQ(bad, 0);
}

bool have_kernel() {
  Generator gen(1);
  TensorBase x = channels_last_randn(1, 16, 6, 6, gen), w = randn({16, 16, 3, 3}, gen);
  const ConstantOperand frozen(w);
  return run_winograd_conv3x3(x, w, {}, inference(1), empty_in(MemoryFormat::channels_last, {1, 16, 6, 6}));
}

#define SKIP_WITHOUT_KERNEL() \
  if (!have_kernel()) GTEST_SKIP() << "no AVX-512 on this CPU: 3x3 convolutions go to oneDNN"

TEST(WinogradConv, MatchesDirectConvolutionOverShapesPaddingBiasAndRelu) {
  SKIP_WITHOUT_KERNEL();
  Generator gen(3);
  struct Case {
    int64_t N, C, O, H, W, pad;
  };
  // W5's 32 -> 64 layer at 13x13; 1-3 tiles a side with overhang; channels past and short of a
  // vector (C 17, 8); O from one vector to past the 64-wide register block (80); two images.
  for (const Case& k : {Case{1, 32, 64, 13, 13, 0}, Case{1, 8, 16, 3, 3, 0}, Case{1, 17, 48, 5, 7, 1},
                        Case{2, 16, 80, 9, 6, 1}, Case{1, 40, 32, 16, 16, 1}, Case{3, 9, 16, 4, 11, 0}}) {
    SCOPED_TRACE("N " + std::to_string(k.N) + " C " + std::to_string(k.C) + " O " + std::to_string(k.O) + " H " +
                 std::to_string(k.H) + " W " + std::to_string(k.W) + " pad " + std::to_string(k.pad));
    TensorBase x = channels_last_randn(k.N, k.C, k.H, k.W, gen), w = randn({k.O, k.C, 3, 3}, gen);
    TensorBase bias = randn({k.O}, gen);
    const ConstantOperand frozen(w);
    for (bool with_bias : {false, true})
      for (bool relu : {false, true}) {
        const Conv2dParams p = inference(k.pad, relu);
        TensorBase y = empty_in(MemoryFormat::channels_last, {k.N, k.O, k.H + 2 * k.pad - 2, k.W + 2 * k.pad - 2});
        ASSERT_TRUE(run_winograd_conv3x3(x, w, with_bias ? bias : TensorBase(), p, y));
        expect_convolution(x, w, with_bias ? bias : TensorBase(), p, y);
      }
  }
}

// Enough tiles for several chunks, split across two threads: each tile's result is the same
// whichever thread computes it.
TEST(WinogradConv, ThreadsSplitTheTilesWithoutChangingAResult) {
  SKIP_WITHOUT_KERNEL();
  Generator gen(5);
  TensorBase x = channels_last_randn(4, 64, 30, 30, gen), w = randn({64, 64, 3, 3}, gen), bias = randn({64}, gen);
  const ConstantOperand frozen(w);
  const Conv2dParams p = inference(1);
  TensorBase one = empty_in(MemoryFormat::channels_last, {4, 64, 30, 30});
  TensorBase two = empty_in(MemoryFormat::channels_last, {4, 64, 30, 30});
  {
    ScopedThreads threads(1);
    ASSERT_TRUE(run_winograd_conv3x3(x, w, bias, p, one));
  }
  {
    ScopedThreads threads(2);
    ASSERT_TRUE(run_winograd_conv3x3(x, w, bias, p, two));
  }
  for (int64_t i = 0; i < one.numel(); ++i)
    ASSERT_EQ(static_cast<const float*>(one.raw_data())[i], static_cast<const float*>(two.raw_data())[i])
        << "element " << i;
  TensorBase x1 = x.as_strided({1, 64, 30, 30}, x.strides(), 0);
  TensorBase y1 = one.as_strided({1, 64, 30, 30}, one.strides(), 0);
  expect_convolution(x1, w, bias, p, y1);  // the first image, against the direct sum
}

// Weights not declared constant (inference or evaluation without FrozenParameters) are transformed
// on each call once there are kMinTilesPerWeightTransform tiles: the result is the one the kept
// transform of a declaration gives, bit for bit.
TEST(WinogradConv, TransformsUndeclaredWeightsOnEachCall) {
  SKIP_WITHOUT_KERNEL();
  Generator gen(11);
  TensorBase x = channels_last_randn(2, 16, 9, 9, gen), w = randn({32, 16, 3, 3}, gen), bias = randn({32}, gen);
  const Conv2dParams p = inference(1);
  TensorBase per_call = empty_in(MemoryFormat::channels_last, {2, 32, 9, 9});
  TensorBase kept = empty_in(MemoryFormat::channels_last, {2, 32, 9, 9});
  ASSERT_TRUE(run_winograd_conv3x3(x, w, bias, p, per_call)) << "2 images of 3 x 3 tiles";
  expect_convolution(x, w, bias, p, per_call);
  const ConstantOperand frozen(w);
  ASSERT_TRUE(run_winograd_conv3x3(x, w, bias, p, kept));
  for (int64_t i = 0; i < kept.numel(); ++i)
    ASSERT_EQ(static_cast<const float*>(per_call.raw_data())[i], static_cast<const float*>(kept.raw_data())[i])
        << "element " << i;
}

// What the kernel does not serve it leaves untouched, for oneDNN.
TEST(WinogradConv, LeavesOtherConvolutionsToTheCaller) {
  SKIP_WITHOUT_KERNEL();
  Generator gen(7);
  TensorBase x = channels_last_randn(1, 16, 8, 8, gen), w = randn({16, 16, 3, 3}, gen);
  auto declines = [](const TensorBase& x, const TensorBase& w, const Conv2dParams& p, const TensorBase& y) {
    for (int64_t i = 0; i < y.numel(); ++i) static_cast<float*>(y.raw_data())[i] = 12345.0f;
    const bool taken = run_winograd_conv3x3(x, w, {}, p, y);
    for (int64_t i = 0; i < y.numel(); ++i) EXPECT_EQ(static_cast<const float*>(y.raw_data())[i], 12345.0f);
    return !taken;
  };
  auto y_of = [](int64_t O, int64_t side) { return empty_in(MemoryFormat::channels_last, {1, O, side, side}); };
  EXPECT_TRUE(declines(x, w, inference(1), y_of(16, 8)))
      << "weights not declared constant, and 4 tiles: too few to pay for their transform";
  const ConstantOperand frozen(w);
  Conv2dParams training = inference(1);
  training.forward_only = false;
  EXPECT_TRUE(declines(x, w, training, y_of(16, 8))) << "a forward that records a backward";
  Conv2dParams strided = inference(1);
  strided.stride = {2, 2};
  EXPECT_TRUE(declines(x, w, strided, y_of(16, 4))) << "stride 2";
  Conv2dParams dilated = inference(2);
  dilated.dilation = {2, 2};
  EXPECT_TRUE(declines(x, w, dilated, y_of(16, 8))) << "dilation 2";
  TensorBase w10 = randn({10, 16, 3, 3}, gen);
  const ConstantOperand frozen10(w10);
  EXPECT_TRUE(declines(x, w10, inference(1), y_of(10, 8))) << "10 output channels: not whole vectors";
  TensorBase x4 = channels_last_randn(1, 4, 8, 8, gen), w4 = randn({16, 4, 3, 3}, gen);
  const ConstantOperand frozen4(w4);
  EXPECT_TRUE(declines(x4, w4, inference(1), y_of(16, 8))) << "4 input channels";
  EXPECT_TRUE(declines(randn({1, 16, 8, 8}, gen), w, inference(1), y_of(16, 8))) << "x in NCHW";
  TensorBase w5 = randn({16, 16, 5, 5}, gen);
  const ConstantOperand frozen5(w5);
  EXPECT_TRUE(declines(x, w5, inference(2), y_of(16, 8))) << "5x5 kernel";
}

}  // namespace
}  // namespace dendrite::kernels::cpu
