// Bad input to the elementwise, reduction, linalg and creation ops: each message names the op and
// the offending shapes or values.
#include <gtest/gtest.h>

#include <string>

#include "dendrite/ops/ops.h"
#include "support/errors.h"

namespace dendrite {
namespace {

using test_support::error_of;

TEST(OpErrors, MatmulInnerDimensions) {
  EXPECT_EQ(error_of([] { matmul(zeros({64, 784}), zeros({512, 10})); }),
            "matmul: inner dimensions differ: [64, 784] x [512, 10]");
}

TEST(OpErrors, MatmulNeedsMatchingDtypes) {
  EXPECT_EQ(error_of([] { matmul(zeros({2, 2}), zeros({2, 2}, DType::f64)); }),
            "matmul: dtypes differ: f32 [2, 2] and f64 [2, 2]");
}

TEST(OpErrors, MatmulRejectsScalars) {
  EXPECT_EQ(error_of([] { matmul(scalar_tensor(1.0), zeros({2})); }),
            "matmul: operands must have at least one dimension, got [] and [2]");
}

TEST(OpErrors, LinearNamesWeightShape) {
  EXPECT_EQ(error_of([] { linear(zeros({8, 4}), zeros({3, 5})); }),
            "linear: input features differ: [8, 4] x weight [3, 5]");
  EXPECT_EQ(error_of([] { linear(zeros({8, 4}), zeros({3, 4}), zeros({4})); }),
            "linear: bias must be [3], got [4]");
}

TEST(OpErrors, BroadcastMismatch) {
  EXPECT_EQ(error_of([] { add(zeros({2, 3}), zeros({4})); }), "add: shapes cannot be broadcast: [2, 3] and [4]");
}

TEST(OpErrors, DtypeMismatch) {
  EXPECT_EQ(error_of([] { mul(zeros({2}), zeros({2}, DType::i64)); }), "mul: dtypes differ: f32 [2] and i64 [2]");
}

TEST(OpErrors, DeviceMismatch) {
  // A tensor that claims to live on a GPU: ops must refuse to mix it with host memory.
  TensorBase host = zeros({2});
  auto impl = std::make_shared<TensorImpl>(host.impl());
  impl->storage = Storage::wrap(host.raw_data(), 8, nullptr, Device{DeviceType::cuda, 0});
  Tensor gpu{TensorBase(impl)};
  EXPECT_EQ(error_of([&] { add(Tensor(host), gpu); }), "add: tensors are on different devices: cpu and cuda:0");
  EXPECT_EQ(error_of([&] { matmul(Tensor(host).reshape({1, 2}), gpu.reshape({2, 1})); }),
            "matmul: tensors are on different devices: cpu and cuda:0");
}

TEST(OpErrors, FloatOnlyOps) {
  EXPECT_EQ(error_of([] { exp(zeros({3}, DType::i64)); }), "exp: needs a floating-point tensor, got i64 [3]");
}

TEST(OpErrors, ReductionAxes) {
  EXPECT_EQ(error_of([] { sum(zeros({2, 3}), {2}); }), "sum: axis 2 is out of range for a tensor of rank 2");
  EXPECT_EQ(error_of([] { sum(zeros({2, 3}), {1, -1}); }), "sum: axis -1 repeated");
  EXPECT_EQ(error_of([] { max(zeros({0, 3})); }), "max: cannot reduce an empty tensor f32 [0, 3]");
}

TEST(OpErrors, CreationArguments) {
  EXPECT_EQ(error_of([] { tensor<float>({1, 2, 3}, {2, 2}); }), "tensor: 3 values do not fill shape [2, 2]");
  EXPECT_EQ(error_of([] { randint(5, 5, {2}); }), "randint: empty range [5, 5)");
  EXPECT_EQ(error_of([] { empty({2, -1}); }), "empty: negative dimension in shape [2, -1]");
}

TEST(OpErrors, InPlaceShapes) {
  autograd::NoGradGuard no_grad;
  EXPECT_EQ(error_of([] { add_(zeros({3}), zeros({2, 3})); }), "add_: f32 [2, 3] cannot be broadcast into f32 [3]");
  EXPECT_EQ(error_of([] { copy_(zeros({3}), zeros({2, 3})); }), "copy_: f32 [2, 3] cannot be broadcast into f32 [3]");
}

}  // namespace
}  // namespace dendrite
