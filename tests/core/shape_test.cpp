// Shapes, strides, broadcasting and axis normalisation: the rules every op's checks build on.
#include "dendrite/core/shape.h"

#include <gtest/gtest.h>

#include <string>

#include "dendrite/core/error.h"
#include "support/errors.h"

namespace dendrite {
namespace {

using test_support::error_of;

TEST(ShapeTest, ToString) {
  EXPECT_EQ(to_string(Shape{64, 784}), "[64, 784]");
  EXPECT_EQ(to_string(Shape{}), "[]");
  EXPECT_EQ(to_string(Shape{0}), "[0]");
}

TEST(ShapeTest, Numel) {
  EXPECT_EQ(numel(Shape{}), 1) << "a scalar holds one element";
  EXPECT_EQ(numel(Shape{2, 3, 4}), 24);
  EXPECT_EQ(numel(Shape{2, 0, 4}), 0);
}

TEST(ShapeTest, ContiguousStridesAreRowMajor) {
  EXPECT_EQ(contiguous_strides({2, 3, 4}), (Strides{12, 4, 1}));
  EXPECT_EQ(contiguous_strides({}), (Strides{}));
  EXPECT_EQ(contiguous_strides({5}), (Strides{1}));
  EXPECT_EQ(contiguous_strides({3, 1, 2}), (Strides{2, 2, 1}));
  // Zero-length axes count as 1 so that the strides stay distinct and non-zero (as in PyTorch).
  EXPECT_EQ(contiguous_strides({2, 0, 3}), (Strides{3, 3, 1}));
}

TEST(ShapeTest, BroadcastFollowsNumPy) {
  EXPECT_EQ(broadcast_shapes("op", {3, 1}, {1, 4}), (Shape{3, 4}));
  EXPECT_EQ(broadcast_shapes("op", {5, 1, 4}, {3, 1}), (Shape{5, 3, 4}));
  EXPECT_EQ(broadcast_shapes("op", {}, {2, 3}), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes("op", {2, 3}, {}), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes("op", {0}, {1}), (Shape{0}));
  EXPECT_EQ(broadcast_shapes("op", {1, 0}, {3, 1}), (Shape{3, 0}));
  EXPECT_EQ(broadcast_shapes("op", {2, 3}, {2, 3}), (Shape{2, 3}));
}

TEST(ShapeTest, BroadcastErrorNamesOpAndShapes) {
  EXPECT_EQ(error_of([] {
              broadcast_shapes("add", {2, 3}, {3, 2});
            }),
            "add: shapes cannot be broadcast: [2, 3] and [3, 2]");
  EXPECT_EQ(error_of([] { broadcast_shapes("mul", {0}, {2}); }), "mul: shapes cannot be broadcast: [0] and [2]");
  EXPECT_EQ(error_of([] {
              broadcast_shapes("sub", {4, 2, 3}, {5, 1, 1});
            }),
            "sub: shapes cannot be broadcast: [4, 2, 3] and [5, 1, 1]");
}

TEST(ShapeTest, NormalizeAxis) {
  EXPECT_EQ(normalize_axis("op", 0, 3), 0);
  EXPECT_EQ(normalize_axis("op", 2, 3), 2);
  EXPECT_EQ(normalize_axis("op", -1, 3), 2);
  EXPECT_EQ(normalize_axis("op", -3, 3), 0);
  // A zero-dimensional tensor accepts axis 0 and -1 (PyTorch's convention for reductions).
  EXPECT_EQ(normalize_axis("op", 0, 0), 0);
  EXPECT_EQ(normalize_axis("op", -1, 0), 0);
}

TEST(ShapeTest, NormalizeAxisErrors) {
  EXPECT_EQ(error_of([] { normalize_axis("sum", 3, 3); }), "sum: axis 3 is out of range for a tensor of rank 3");
  EXPECT_EQ(error_of([] { normalize_axis("sum", -4, 3); }), "sum: axis -4 is out of range for a tensor of rank 3");
  EXPECT_EQ(error_of([] { normalize_axis("sum", 1, 0); }), "sum: axis 1 is out of range for a tensor of rank 0");
}

}  // namespace
}  // namespace dendrite
