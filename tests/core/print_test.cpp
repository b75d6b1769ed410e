// Printing tensors: nested brackets in index order (whatever the strides), the dtype and shape at
// the end, integers without decimals, and long axes elided in the middle.
#include "dendrite/core/print.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

namespace dendrite {
namespace {

template <typename T>
TensorBase filled(const Shape& shape, std::initializer_list<T> values) {
  TensorBase t = TensorBase::empty(shape, dtype_v<T>);
  T* p = t.data_ptr<T>();
  for (T v : values) *p++ = v;
  return t;
}

TensorBase iota(const Shape& shape) {
  TensorBase t = TensorBase::empty(shape);
  float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(i);
  return t;
}

TEST(PrintTest, ScalarAndVector) {
  EXPECT_EQ(to_string(filled<float>({}, {1.5f})), "tensor(1.5000, f32 [])");
  EXPECT_EQ(to_string(filled<float>({3}, {1.0f, -2.0f, 3.25f})), "tensor([1.0000, -2.0000, 3.2500], f32 [3])");
  EXPECT_EQ(to_string(TensorBase::empty({0})), "tensor([], f32 [0])");
}

TEST(PrintTest, MatrixRowsLineUpUnderTheFirstBracket) {
  EXPECT_EQ(to_string(iota({2, 2})),
            "tensor([[0.0000, 1.0000],\n"
            "        [2.0000, 3.0000]], f32 [2, 2])");
  EXPECT_EQ(to_string(iota({2, 1, 2})),
            "tensor([[[0.0000, 1.0000]],\n"
            "        [[2.0000, 3.0000]]], f32 [2, 1, 2])");
  EXPECT_EQ(to_string(iota({1, 2, 1})),
            "tensor([[[0.0000],\n"
            "         [1.0000]]], f32 [1, 2, 1])");
}

TEST(PrintTest, IntegersAndOtherDtypes) {
  EXPECT_EQ(to_string(filled<int64_t>({3}, {1, -2, 3})), "tensor([1, -2, 3], i64 [3])");
  EXPECT_EQ(to_string(filled<uint8_t>({2}, {200, 7})), "tensor([200, 7], u8 [2])") << "u8 prints as a number";
  EXPECT_EQ(to_string(filled<int8_t>({1}, {-128})), "tensor([-128], i8 [1])");
  EXPECT_EQ(to_string(filled<double>({1}, {0.125})), "tensor([0.1250], f64 [1])");
  EXPECT_EQ(to_string(filled<bf16>({2}, {bf16(1.5f), bf16(-0.25f)})), "tensor([1.5000, -0.2500], bf16 [2])");
  EXPECT_EQ(to_string(filled<f16>({1}, {f16(2.0f)})), "tensor([2.0000], f16 [1])");
}

TEST(PrintTest, PrecisionOption) {
  TensorBase t = filled<float>({2}, {1.0f / 3.0f, 2.75f});
  EXPECT_EQ(to_string(t, {.precision = 2}), "tensor([0.33, 2.75], f32 [2])");
  EXPECT_EQ(to_string(t, {.precision = 0}), "tensor([0, 3], f32 [2])");
}

TEST(PrintTest, StridedViewsPrintInIndexOrder) {
  TensorBase base = iota({2, 3});
  TensorBase transposed = base.as_strided({3, 2}, {1, 3}, 0);
  EXPECT_EQ(to_string(transposed, {.precision = 0}),
            "tensor([[0, 3],\n"
            "        [1, 4],\n"
            "        [2, 5]], f32 [3, 2])");
  EXPECT_EQ(to_string(base.as_strided({2}, {1}, 4), {.precision = 0}), "tensor([4, 5], f32 [2])");
  EXPECT_EQ(to_string(base.as_strided({}, {}, 5), {.precision = 0}), "tensor(5, f32 [])");
  EXPECT_EQ(to_string(base.as_strided({2, 2}, {0, 1}, 1), {.precision = 0}),
            "tensor([[1, 2],\n"
            "        [1, 2]], f32 [2, 2])");
}

TEST(PrintTest, LongAxesAreElided) {
  EXPECT_EQ(to_string(iota({10}), {.precision = 0}), "tensor([0, 1, 2, ..., 7, 8, 9], f32 [10])");
  EXPECT_EQ(to_string(iota({8}), {.precision = 0}), "tensor([0, 1, 2, 3, 4, 5, 6, 7], f32 [8])")
      << "the threshold itself is printed whole";
  EXPECT_EQ(to_string(iota({9, 1}), {.precision = 0, .edge_items = 1}),
            "tensor([[0],\n"
            "        ...,\n"
            "        [8]], f32 [9, 1])");
  EXPECT_EQ(to_string(iota({5}), {.precision = 0, .edge_items = 2, .threshold = 4}),
            "tensor([0, 1, ..., 3, 4], f32 [5])");
}

TEST(PrintTest, UndefinedAndStream) {
  EXPECT_EQ(to_string(TensorBase()), "tensor(undefined)");
  std::ostringstream os;
  TensorBase t = iota({2});
  os << t;
  EXPECT_EQ(os.str(), to_string(t));
}

// An axis longer than `threshold` but not longer than 2 * edge_items is printed whole, as PyTorch
// does. (Eliding it used to jump back before edge_items and loop forever.)
TEST(PrintTest, ShortAxisAboveThresholdPrintsWhole) {
  PrintOptions options;
  options.precision = 0;
  options.edge_items = 3;
  options.threshold = 2;
  EXPECT_EQ(to_string(iota({5}), options), "tensor([0, 1, 2, 3, 4], f32 [5])");
}

}  // namespace
}  // namespace dendrite
