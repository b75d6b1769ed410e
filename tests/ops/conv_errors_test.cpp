// Every bad input of conv2d, max_pool2d and avg_pool2d throws a dendrite::Error whose message
// names the op and the offending shapes or parameters.
#include <gtest/gtest.h>

#include <string>

#include "dendrite/ops/ops.h"
#include "support/errors.h"

namespace dendrite {
namespace {

using test_support::error_of;
using test_support::expect_error;

Tensor x4() { return zeros({1, 4, 6, 6}); }
Tensor w4() { return zeros({2, 4, 3, 3}); }

TEST(conv2d_errors, InputNot4D) {
  expect_error([] { conv2d(zeros({4, 6, 6}), w4()); }, {"conv2d: input must be 4-D", "[4, 6, 6]"});
}

TEST(conv2d_errors, WeightNot4D) {
  expect_error([] { conv2d(x4(), zeros({2, 4, 3})); }, {"conv2d: weight must be 4-D", "[2, 4, 3]"});
}

TEST(conv2d_errors, DtypesDiffer) {
  expect_error([] { conv2d(x4(), zeros({2, 4, 3, 3}, DType::f64)); },
               {"conv2d: dtypes differ", "f32 [1, 4, 6, 6]", "f64 [2, 4, 3, 3]"});
}

TEST(conv2d_errors, NotFloating) {
  expect_error([] { conv2d(zeros({1, 4, 6, 6}, DType::i64), zeros({2, 4, 3, 3}, DType::i64)); },
               {"conv2d: needs floating-point", "i64 [1, 4, 6, 6]"});
}

TEST(conv2d_errors, GroupsBelowOne) {
  expect_error([] { conv2d(x4(), w4(), {}, {.groups = 0}); }, {"conv2d: groups must be >= 1, got 0"});
}

TEST(conv2d_errors, StrideBelowOne) {
  expect_error([] { conv2d(x4(), w4(), {}, {.stride = {1, 0}}); }, {"conv2d: stride must be >= 1", "[1, 0]"});
}

TEST(conv2d_errors, NegativePadding) {
  expect_error([] { conv2d(x4(), w4(), {}, {.padding = {-1, 0}}); }, {"conv2d: padding must be >= 0", "[-1, 0]"});
}

TEST(conv2d_errors, DilationBelowOne) {
  expect_error([] { conv2d(x4(), w4(), {}, {.dilation = {0, 2}}); }, {"conv2d: dilation must be >= 1", "[0, 2]"});
}

TEST(conv2d_errors, EmptyKernel) {
  expect_error([] { conv2d(x4(), zeros({2, 4, 0, 3})); }, {"conv2d: weight [2, 4, 0, 3] has an empty kernel"});
}

TEST(conv2d_errors, ChannelsDiffer) {
  expect_error([] { conv2d(zeros({1, 3, 6, 6}), w4()); },
               {"conv2d: input [1, 3, 6, 6] has 3 channels", "weight [2, 4, 3, 3] with groups 1 expects 4"});
}

TEST(conv2d_errors, ChannelsDifferWithGroups) {
  expect_error([] { conv2d(x4(), zeros({2, 4, 3, 3}), {}, {.groups = 2}); },
               {"has 4 channels", "with groups 2 expects 8"});
}

TEST(conv2d_errors, OutputChannelsNotDivisibleByGroups) {
  expect_error([] { conv2d(x4(), zeros({3, 2, 3, 3}), {}, {.groups = 2}); },
               {"conv2d: weight [3, 2, 3, 3] has 3 output channels, not divisible by groups 2"});
}

TEST(conv2d_errors, BiasShape) {
  expect_error([] { conv2d(x4(), w4(), zeros({3})); }, {"conv2d: bias must be [2]", "got [3]"});
  expect_error([] { conv2d(x4(), w4(), zeros({2, 1})); }, {"conv2d: bias must be [2]", "got [2, 1]"});
}

TEST(conv2d_errors, BiasDtype) {
  expect_error([] { conv2d(x4(), w4(), zeros({2}, DType::f64)); }, {"conv2d: dtypes differ", "bias f64 [2]"});
}

TEST(conv2d_errors, InputSmallerThanKernel) {
  expect_error([] { conv2d(zeros({1, 3, 2, 2}), zeros({1, 3, 3, 3})); },
               {"conv2d: input [1, 3, 2, 2] is smaller than the dilated kernel 3x3 with padding [0, 0]"});
}

TEST(conv2d_errors, InputSmallerThanDilatedKernel) {
  // 3 taps with dilation 2 span 5 rows; 4 rows padded by 0 do not hold them.
  expect_error([] { conv2d(zeros({1, 1, 4, 9}), zeros({1, 1, 3, 3}), {}, {.dilation = {2, 2}}); },
               {"conv2d: input [1, 1, 4, 9] is smaller than the dilated kernel 5x5"});
}

TEST(conv2d_errors, PaddingMakesRoomForKernel) {
  // The same input fits once padded: not an error.
  EXPECT_EQ(conv2d(zeros({1, 3, 2, 2}), zeros({1, 3, 3, 3}), {}, {.padding = {1, 1}}).shape(), (Shape{1, 1, 2, 2}));
}

// Pooling: each message is checked for both ops where they share the check.
TEST(pool2d_errors, InputNot4D) {
  expect_error([] { max_pool2d(zeros({4, 6, 6}), {2, 2}); }, {"max_pool2d: input must be 4-D", "[4, 6, 6]"});
  expect_error([] { avg_pool2d(zeros({6, 6}), {2, 2}); }, {"avg_pool2d: input must be 4-D", "[6, 6]"});
}

TEST(pool2d_errors, NotFloating) {
  expect_error([] { max_pool2d(zeros({1, 1, 4, 4}, DType::i32), {2, 2}); },
               {"max_pool2d: needs a floating-point tensor", "i32 [1, 1, 4, 4]"});
}

TEST(pool2d_errors, KernelBelowOne) {
  expect_error([] { max_pool2d(x4(), {0, 2}); }, {"max_pool2d: kernel must be >= 1", "[0, 2]"});
  expect_error([] { avg_pool2d(x4(), {2, -1}); }, {"avg_pool2d: kernel must be >= 1", "[2, -1]"});
}

TEST(pool2d_errors, StrideBelowOne) {
  expect_error([] { max_pool2d(x4(), {2, 2}, {0, 1}); }, {"max_pool2d: stride must be >= 1", "[0, 1]"});
  expect_error([] { avg_pool2d(x4(), {2, 2}, {-2, -2}); }, {"avg_pool2d: stride must be >= 1", "[-2, -2]"});
}

TEST(pool2d_errors, DefaultStrideIsKernel) {
  EXPECT_EQ(max_pool2d(x4(), {2, 3}).shape(), (Shape{1, 4, 3, 2}));
  EXPECT_EQ(avg_pool2d(x4(), {3, 3}, {0, 0}).shape(), (Shape{1, 4, 2, 2}));
}

TEST(pool2d_errors, NegativePadding) {
  expect_error([] { max_pool2d(x4(), {2, 2}, {0, 0}, {0, -1}); }, {"max_pool2d: padding must be >= 0", "[0, -1]"});
}

TEST(pool2d_errors, PaddingAboveHalfKernel) {
  expect_error([] { max_pool2d(x4(), {3, 3}, {1, 1}, {2, 1}); },
               {"max_pool2d: padding [2, 1] must be at most half the kernel [3, 3]"});
  expect_error([] { avg_pool2d(x4(), {2, 2}, {1, 1}, {1, 2}); },
               {"avg_pool2d: padding [1, 2] must be at most half the kernel [2, 2]"});
}

TEST(pool2d_errors, InputSmallerThanKernel) {
  expect_error([] { max_pool2d(zeros({1, 1, 1, 5}), {2, 2}); },
               {"max_pool2d: input [1, 1, 1, 5] is smaller than the kernel 2x2 with padding [0, 0]"});
  expect_error([] { avg_pool2d(zeros({1, 1, 5, 2}), {3, 5}, {1, 1}, {1, 1}); },
               {"avg_pool2d: input [1, 1, 5, 2] is smaller than the kernel 3x5 with padding [1, 1]"});
}

}  // namespace
}  // namespace dendrite
