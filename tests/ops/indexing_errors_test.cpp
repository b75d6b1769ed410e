// Bad inputs to embedding, index_select and gather: each throws a dendrite::Error naming the op,
// the bad index and its bound. A few known values follow (the conformance table checks gradients
// and backends against the reference, not the reference's own lookups).
#include <gtest/gtest.h>

#include <string>

#include "dendrite/ops/ops.h"
#include "support/errors.h"

namespace dendrite {
namespace {

using test_support::error_of;

TEST(EmbeddingErrors, IndexOutOfRangeNamesIndexPositionAndBound) {
  Tensor indices = tensor<int64_t>({0, 1, 2, 3, 4, 12}, {2, 3});
  EXPECT_EQ(error_of([&] { embedding(zeros({10, 4}), indices); }),
            "embedding: index 12 at position [1, 2] is out of range [0, 10)");
}

TEST(EmbeddingErrors, NegativeIndex) {
  EXPECT_EQ(error_of([] { embedding(zeros({10, 4}), tensor<int32_t>({-1, 3})); }),
            "embedding: index -1 at position 0 is out of range [0, 10)");
}

TEST(EmbeddingErrors, IndicesMustBeInteger) {
  EXPECT_CONTAINS(error_of([] { embedding(zeros({10, 4}), zeros({3})); }),
                  "embedding: indices must be integer (i64 or i32), got f32 [3]");
}

TEST(EmbeddingErrors, WeightMustBeRank2) {
  EXPECT_CONTAINS(error_of([] { embedding(zeros({10}), zeros({3}, DType::i64)); }),
                  "embedding: weight must be [num, dim], got [10]");
}

TEST(IndexSelectErrors, IndexOutOfRangeNamesAxisAndShape) {
  EXPECT_EQ(error_of([] { index_select(zeros({3, 5}), 1, tensor<int64_t>({0, 5})); }),
            "index_select: index 5 at position 1 is out of range [0, 5) for axis 1 of [3, 5]");
}

TEST(IndexSelectErrors, BadAxis) {
  EXPECT_CONTAINS(error_of([] { index_select(zeros({3, 5}), 2, tensor<int64_t>({0})); }),
                  "index_select: axis 2 is out of range for a tensor of rank 2");
}

TEST(IndexSelectErrors, IndexMustBe1D) {
  EXPECT_CONTAINS(error_of([] { index_select(zeros({3, 5}), 0, zeros({2, 2}, DType::i64)); }),
                  "index_select: index must be 1-D, got [2, 2]");
}

TEST(GatherErrors, RankMismatch) {
  EXPECT_CONTAINS(error_of([] { gather(zeros({3, 4}), 1, zeros({3}, DType::i64)); }),
                  "gather: index rank 1 differs from input rank 2: index [3] vs input [3, 4]");
}

TEST(GatherErrors, IndexLargerThanInputOffTheGatherAxis) {
  EXPECT_CONTAINS(error_of([] { gather(zeros({3, 4}), 1, zeros({5, 2}, DType::i64)); }),
                  "gather: index [5, 2] is larger than input [3, 4] at axis 0");
}

TEST(GatherErrors, IndexOutOfRange) {
  Tensor index = tensor<int64_t>({0, 1, 4, 2}, {2, 2});
  EXPECT_EQ(error_of([&] { gather(zeros({3, 4}), 0, index); }),
            "gather: index 4 at position [1, 0] is out of range [0, 3) for axis 0 of [3, 4]");
}

TEST(GatherErrors, BadAxis) {
  EXPECT_CONTAINS(error_of([] { gather(zeros({3, 4}), -3, zeros({3, 4}, DType::i64)); }),
                  "gather: axis -3 is out of range for a tensor of rank 2");
}

TEST(GatherErrors, IndexMustBeInteger) {
  EXPECT_CONTAINS(error_of([] { gather(zeros({3, 4}), 1, zeros({3, 4})); }),
                  "gather: index must be integer (i64 or i32), got f32 [3, 4]");
}

// --- known values ---------------------------------------------------------------------------

TEST(EmbeddingValues, RowsAndAccumulatedGradient) {
  Tensor weight = tensor<float>({1, 2, 3, 4, 5, 6}, {3, 2}).requires_grad_();
  Tensor out = embedding(weight, tensor<int32_t>({0, 2, 0, 0}, {2, 2}));
  EXPECT_EQ(out.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(to_vector<float>(out), (std::vector<float>{1, 2, 5, 6, 1, 2, 1, 2}));
  sum(out).backward();
  EXPECT_EQ(to_vector<float>(weight.grad()), (std::vector<float>{3, 3, 0, 0, 1, 1}));  // row 0 used 3 times
}

TEST(IndexSelectValues, ColumnsOfTransposedInput) {
  Tensor x = tensor<int64_t>({1, 2, 3, 4, 5, 6}, {2, 3}).t();  // [[1, 4], [2, 5], [3, 6]]
  EXPECT_EQ(to_vector<int64_t>(index_select(x, 1, tensor<int64_t>({1, 1, 0}))),
            (std::vector<int64_t>{4, 4, 1, 5, 5, 2, 6, 6, 3}));
}

TEST(GatherValues, PicksAlongAxisAndScattersGradientBack) {
  Tensor x = tensor<double>({1, 2, 3, 4}, {2, 2}).requires_grad_();
  Tensor out = gather(x, 1, tensor<int64_t>({0, 0, 1, 0}, {2, 2}));
  EXPECT_EQ(to_vector<double>(out), (std::vector<double>{1, 1, 4, 3}));
  sum(out).backward();
  EXPECT_EQ(to_vector<double>(x.grad()), (std::vector<double>{2, 0, 1, 1}));
}

}  // namespace
}  // namespace dendrite
