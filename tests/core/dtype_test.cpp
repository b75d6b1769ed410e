#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "dendrite/core/dtype.h"

namespace dendrite {
namespace {

TEST(DType, NamesAndSizes) {
  EXPECT_EQ(name(DType::bf16), "bf16");
  EXPECT_EQ(element_size(DType::i64), 8u);
  EXPECT_EQ(element_size(DType::f16), 2u);
  EXPECT_TRUE(is_floating(DType::bf16));
  EXPECT_FALSE(is_floating(DType::u8));
}

TEST(DType, HalfRoundTripsExactValues) {
  for (float v : {0.0f, 1.0f, -2.5f, 65504.0f, 0.000061035156f /* 2^-14 */, 5.96046448e-8f /* 2^-24 */}) {
    EXPECT_EQ(static_cast<float>(f16(v)), v) << v;
  }
  EXPECT_TRUE(std::isinf(static_cast<float>(f16(70000.0f))));
  EXPECT_TRUE(std::isnan(static_cast<float>(f16(std::numeric_limits<float>::quiet_NaN()))));
  // 1 + 2^-11 lies halfway between two halves; ties go to the even one (1.0).
  EXPECT_EQ(static_cast<float>(f16(1.0f + 0.00048828125f)), 1.0f);
}

TEST(DType, BFloat16RoundsToNearestEven) {
  EXPECT_EQ(static_cast<float>(bf16(1.0f)), 1.0f);
  EXPECT_EQ(static_cast<float>(bf16(3.140625f)), 3.140625f);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even gives 1.
  EXPECT_EQ(static_cast<float>(bf16(1.00390625f)), 1.0f);
  EXPECT_TRUE(std::isnan(static_cast<float>(bf16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(DType, ConvertGoesThroughFloatForHalfTypes) {
  EXPECT_EQ(convert<int32_t>(bf16(7.0f)), 7);
  EXPECT_EQ(static_cast<float>(convert<f16>(int64_t{3})), 3.0f);
  EXPECT_EQ(convert<uint8_t>(200.0), 200);
}

}  // namespace
}  // namespace dendrite
