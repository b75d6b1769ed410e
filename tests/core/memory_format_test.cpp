// Memory formats: which strides count as dense and channels-last, and tensors made in each format.
#include "dendrite/core/memory_format.h"

#include <gtest/gtest.h>

#include "support/errors.h"

namespace dendrite {
namespace {

TEST(MemoryFormat, ChannelsLastStridesPutChannelsInnermost) {
  EXPECT_EQ(channels_last_strides({2, 3, 4, 5}), (Strides{60, 1, 15, 3}));
  EXPECT_NE(test_support::error_of([] { channels_last_strides({2, 3, 4}); }).find("4-D"), std::string::npos);
}

TEST(MemoryFormat, EmptyInChannelsLastIsDenseAndNotContiguous) {
  const TensorBase t = empty_in(MemoryFormat::channels_last, {2, 3, 4, 5});
  EXPECT_EQ(t.strides(), (Strides{60, 1, 15, 3}));
  EXPECT_TRUE(is_dense(t));
  EXPECT_TRUE(is_channels_last(t));
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(memory_format_of(t), MemoryFormat::channels_last);
  EXPECT_EQ(t.storage().bytes(), 120 * sizeof(float));
}

TEST(MemoryFormat, OneChannelImagesAreBothFormats) {
  const TensorBase t = empty_in(MemoryFormat::contiguous, {8, 1, 28, 28});
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_TRUE(is_channels_last(t));
  EXPECT_EQ(memory_format_of(t), MemoryFormat::contiguous);  // contiguous wins a tie
  EXPECT_EQ(memory_format_of(empty_in(MemoryFormat::channels_last, {8, 1, 28, 28})), MemoryFormat::contiguous);
}

TEST(MemoryFormat, DenseMeansNoGapsNoOverlap) {
  const TensorBase t = TensorBase::empty({4, 6});
  EXPECT_TRUE(is_dense(t));
  EXPECT_TRUE(is_dense(t.as_strided({6, 4}, {1, 6}, 0)));         // transposed
  EXPECT_FALSE(is_dense(t.as_strided({4, 3}, {6, 1}, 0)));        // a column slice leaves gaps
  EXPECT_FALSE(is_dense(t.as_strided({4, 6}, {0, 1}, 0)));        // broadcast rows overlap
  EXPECT_TRUE(is_dense(t.as_strided({1, 6, 4}, {99, 1, 6}, 0)));  // size-1 axes do not count
  EXPECT_FALSE(is_channels_last(t));                              // not 4-D
  EXPECT_FALSE(is_channels_last(TensorBase::empty({2, 3, 4, 5})));
}

}  // namespace
}  // namespace dendrite
