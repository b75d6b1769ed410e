// Batch transforms: exact results where there is no randomness, the statistics torchvision's
// versions have where there is, determinism under a seed, and the errors of bad arguments.
#include "dendrite/data/transforms.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "dendrite/ops/creation.h"
#include "support/errors.h"

namespace dendrite::data {
namespace {

using test_support::error_of;
using ::testing::HasSubstr;

// [n, c, h, w] with element value 1 + its flat index within the sample (never 0).
Tensor numbered(int64_t n, int64_t c, int64_t h, int64_t w) {
  std::vector<float> v;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < c * h * w; ++k) v.push_back(static_cast<float>(1 + k));
  }
  return tensor<float>(v, {n, c, h, w});
}

TEST(TransformsTest, NormalizePerChannel) {
  Tensor x = tensor<float>({1, 2, 3, 4, 10, 20, 30, 40}, {1, 2, 2, 2});
  Generator gen(0);
  Tensor y = Normalize({1.0f, 10.0f}, {2.0f, 10.0f})(x, gen);
  EXPECT_EQ(to_vector<float>(y), (std::vector<float>{0, 0.5f, 1, 1.5f, 0, 1, 2, 3}));
  EXPECT_EQ(to_vector<float>(x)[0], 1.0f) << "the input is untouched";
  // One value for every channel; other ranks with a channel axis.
  Tensor z = Normalize({2.0f}, {0.5f})(tensor<float>({1, 2, 3, 4}, {2, 2}), gen);
  EXPECT_EQ(to_vector<float>(z), (std::vector<float>{-2, 0, 2, 4}));
  EXPECT_EQ(gen.state(), Generator(0).state()) << "Normalize draws nothing";
}

TEST(TransformsTest, NormalizeGivesZeroMeanUnitVariance) {
  Generator gen(3);
  Tensor x = normal({256, 1, 8, 8}, 0.3, 0.2, DType::f32, gen);
  std::vector<float> y = to_vector<float>(Normalize({0.3f}, {0.2f})(x, gen));
  double sum = 0, sq = 0;
  for (float v : y) sum += v, sq += static_cast<double>(v) * v;
  const double mean = sum / static_cast<double>(y.size());
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(sq / static_cast<double>(y.size()) - mean * mean, 1.0, 0.03);
}

TEST(TransformsTest, NormalizeErrors) {
  EXPECT_THAT(error_of([] { Normalize({0.5f, 0.5f}, {1.0f}); }), HasSubstr("one mean and one standard deviation"));
  EXPECT_THAT(error_of([] { Normalize({0.5f}, {0.0f}); }), HasSubstr("standard deviations must be positive"));
  Generator gen;
  EXPECT_THAT(error_of([&] {
                Normalize({0.f, 0.f}, {1.f, 1.f})(zeros({2, 3, 4, 4}), gen);
              }),
              HasSubstr("Normalize: 2 means for a batch f32 [2, 3, 4, 4] with 3 channels"));
  EXPECT_THAT(error_of([&] { Normalize({0.f}, {1.f})(zeros({4}, DType::f64), gen); }),
              HasSubstr("Normalize: expects an f32 batch"));
}

// The (top, left) offset into the zero-padded image that sample `i` of `out` was cut at, or
// {-1, -1} when no window matches.
std::pair<int64_t, int64_t> crop_offset(const std::vector<float>& in, const std::vector<float>& out, int64_t i,
                                        int64_t c, int64_t h, int64_t w, int64_t size, int64_t pad) {
  for (int64_t top = 0; top <= h + 2 * pad - size; ++top) {
    for (int64_t left = 0; left <= w + 2 * pad - size; ++left) {
      bool match = true;
      for (int64_t k = 0; k < c && match; ++k) {
        for (int64_t r = 0; r < size && match; ++r) {
          for (int64_t s = 0; s < size && match; ++s) {
            const int64_t sr = top + r - pad, sc = left + s - pad;
            const float expected =
                (sr < 0 || sr >= h || sc < 0 || sc >= w) ? 0.0f : in[((i * c + k) * h + sr) * w + sc];
            match = out[((i * c + k) * size + r) * size + s] == expected;
          }
        }
      }
      if (match) return {top, left};
    }
  }
  return {-1, -1};
}

TEST(TransformsTest, RandomCropCutsPaddedWindowsUniformly) {
  const int64_t n = 2000, c = 2, h = 5, w = 5, size = 5, pad = 1;
  Tensor x = numbered(n, c, h, w);
  Generator gen(42);
  Tensor y = RandomCrop(size, pad)(x, gen);
  EXPECT_EQ(y.shape(), (Shape{n, c, size, size}));
  std::vector<float> in = to_vector<float>(x), out = to_vector<float>(y);
  std::map<std::pair<int64_t, int64_t>, int> counts;
  for (int64_t i = 0; i < n; ++i) {
    const auto offset = crop_offset(in, out, i, c, h, w, size, pad);
    ASSERT_NE(offset.first, -1) << "sample " << i << " is not a window of the padded image";
    ++counts[offset];
  }
  // 9 offsets, 2000 / 9 = 222 each; a binomial standard deviation is about 14.
  ASSERT_EQ(counts.size(), 9u);
  for (const auto& [offset, count] : counts) EXPECT_NEAR(count, 222, 70);
}

TEST(TransformsTest, RandomCropSmallerThanTheImage) {
  Tensor x = numbered(50, 1, 6, 8);
  Generator gen(1);
  Tensor y = RandomCrop(4, 3, 0)(x, gen);
  EXPECT_EQ(y.shape(), (Shape{50, 1, 4, 3}));
  for (float v : to_vector<float>(y)) EXPECT_GT(v, 0.0f) << "no padding, so no zeros";
}

TEST(TransformsTest, RandomCropOfTheWholeImageIsTheIdentityAndDrawsNothing) {
  Tensor x = numbered(3, 1, 4, 4);
  Generator gen(9);
  EXPECT_EQ(to_vector<float>(RandomCrop(4)(x, gen)), to_vector<float>(x));
  EXPECT_EQ(gen.state(), Generator(9).state());
  EXPECT_THAT(error_of([&] { RandomCrop(7, 1)(x, gen); }),
              HasSubstr("RandomCrop: crop 7x7 is larger than the padded image 6x6"));
  EXPECT_THAT(error_of([] { RandomCrop(3, -1); }), HasSubstr("padding must be non-negative"));
  EXPECT_THAT(error_of([&] { RandomCrop(2)(zeros({4, 4}), gen); }), HasSubstr("expects an f32 batch [N, C, H, W]"));
}

TEST(TransformsTest, HorizontalFlip) {
  Tensor x = numbered(1, 2, 2, 3);
  Generator gen(0);
  EXPECT_EQ(to_vector<float>(RandomHorizontalFlip(1.0)(x, gen)),
            (std::vector<float>{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10}));
  EXPECT_EQ(to_vector<float>(RandomHorizontalFlip(0.0)(x, gen)), to_vector<float>(x));

  const int64_t n = 4000;
  Tensor many = numbered(n, 1, 1, 2);
  std::vector<float> out = to_vector<float>(RandomHorizontalFlip(0.3)(many, gen));
  int64_t flipped = 0;
  for (int64_t i = 0; i < n; ++i) flipped += out[static_cast<size_t>(2 * i)] == 2.0f;
  EXPECT_NEAR(static_cast<double>(flipped) / n, 0.3, 0.03);
  EXPECT_THAT(error_of([] { RandomHorizontalFlip(1.5); }), HasSubstr("probability must be in [0, 1], got 1.5"));
}

TEST(TransformsTest, RandomErasingMatchesTorchvisionStatistics) {
  const int64_t n = 4000, c = 2, h = 28, w = 28;
  Generator gen(2);
  Tensor x = ones({n, c, h, w});
  std::vector<float> out = to_vector<float>(RandomErasing(1.0)(x, gen));
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    // The zeros of each channel form one rectangle, the same in every channel.
    int64_t top = h, bottom = -1, left = w, right = -1, zeros = 0;
    for (int64_t r = 0; r < h; ++r) {
      for (int64_t s = 0; s < w; ++s) {
        const float v0 = out[static_cast<size_t>(((i * c) * h + r) * w + s)];
        const float v1 = out[static_cast<size_t>(((i * c + 1) * h + r) * w + s)];
        ASSERT_EQ(v0, v1);
        if (v0 != 0.0f) continue;
        ++zeros;
        top = std::min(top, r), bottom = std::max(bottom, r), left = std::min(left, s), right = std::max(right, s);
      }
    }
    ASSERT_GT(zeros, 0) << "with p = 1 every 28x28 sample is erased";
    ASSERT_EQ(zeros, (bottom - top + 1) * (right - left + 1)) << "sample " << i;
    const double fraction = static_cast<double>(zeros) / (h * w);
    EXPECT_GE(fraction, 0.015);
    EXPECT_LE(fraction, 0.35);
    total += fraction;
  }
  // torchvision 0.14's RandomErasing(p=1) on 4000 ones(1, 28, 28) erases 0.1748 of the area on average.
  EXPECT_NEAR(total / n, 0.1748, 0.008);
}

TEST(TransformsTest, RandomErasingProbabilityAndValue) {
  const int64_t n = 4000;
  Generator gen(4);
  std::vector<float> out =
      to_vector<float>(RandomErasing(0.25, {0.1, 0.2}, {1.0, 1.0}, 7.0f)(ones({n, 1, 10, 10}), gen));
  int64_t erased = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t sevens = 0;
    for (int64_t k = 0; k < 100; ++k) sevens += out[static_cast<size_t>(i * 100 + k)] == 7.0f;
    erased += sevens > 0;
    // A square (ratio 1) of 10 to 20 pixels rounds to 3x3 or 4x4.
    EXPECT_TRUE(sevens == 0 || sevens == 9 || sevens == 16) << sevens;
  }
  EXPECT_NEAR(static_cast<double>(erased) / n, 0.25, 0.03);
  EXPECT_THAT(error_of([] { RandomErasing(0.5, {0.5, 0.1}); }), HasSubstr("scale must satisfy"));
  EXPECT_THAT(error_of([] { RandomErasing(0.5, {0.1, 0.5}, {0.0, 2.0}); }), HasSubstr("ratio must satisfy"));
}

TEST(TransformsTest, ComposeIsDeterministicUnderASeed) {
  const Transform t = Compose{RandomCrop(8, 2), RandomHorizontalFlip(), RandomErasing(), Normalize({0.5f}, {0.25f})};
  Generator data(1);
  Tensor x = rand({32, 3, 8, 8}, DType::f32, data);
  Generator a(7), b(7), c(8);
  const std::vector<float> first = to_vector<float>(t(x, a));
  EXPECT_EQ(first, to_vector<float>(t(x, b)));
  EXPECT_NE(first, to_vector<float>(t(x, c)));
  EXPECT_NE(first, to_vector<float>(t(x, a))) << "the generator advances";
}

}  // namespace
}  // namespace dendrite::data
