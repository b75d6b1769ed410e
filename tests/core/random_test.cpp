// Random numbers: the Generator's stream is SplitMix64 bit for bit (so seeds reproduce across
// platforms), its state round-trips, and the fills have the right ranges, moments and order.
#include "dendrite/core/random.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "support/errors.h"

namespace dendrite {
namespace {

using test_support::error_of;

template <typename T>
std::vector<double> contents(const TensorBase& t) {
  std::vector<double> out;
  const T* p = t.data_ptr<T>();
  for (int64_t i = 0; i < t.numel(); ++i) out.push_back(convert<double>(p[i]));
  return out;
}

struct Moments {
  double mean = 0, variance = 0;
};
Moments moments(const std::vector<double>& v) {
  Moments m;
  for (double x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  for (double x : v) m.variance += (x - m.mean) * (x - m.mean);
  m.variance /= static_cast<double>(v.size());
  return m;
}

TEST(GeneratorTest, MatchesSplitMix64ReferenceOutputs) {
  // The first outputs of Vigna's splitmix64.c seeded with 0.
  Generator gen(0);
  EXPECT_EQ(gen.next_u64(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(gen.next_u64(), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(gen.next_u64(), 0x06c45d188009454fULL);
}

TEST(GeneratorTest, SkipReservesABlockReadableByIndex) {
  Generator sequential(7), block(7);
  const uint64_t base = block.skip(5);
  for (uint64_t k = 0; k < 5; ++k) {
    const uint64_t expected = sequential.next_u64();
    EXPECT_EQ(Generator::at(base, k), expected) << k;
    EXPECT_EQ(Generator::uniform_at(base, k), static_cast<double>(expected >> 11) * 0x1.0p-53) << k;
  }
  EXPECT_EQ(block.state(), sequential.state());
  EXPECT_EQ(block.next_u64(), sequential.next_u64());
}

TEST(GeneratorTest, SameSeedSameStream) {
  Generator a(123), b(123), c(124);
  std::vector<uint64_t> xa, xb, xc;
  for (int i = 0; i < 16; ++i) {
    xa.push_back(a.next_u64());
    xb.push_back(b.next_u64());
    xc.push_back(c.next_u64());
  }
  EXPECT_EQ(xa, xb);
  EXPECT_NE(xa, xc);
}

TEST(GeneratorTest, StateRoundTripsAndSeedResets) {
  Generator gen(7);
  gen.next_u64();
  const uint64_t saved = gen.state();
  const double u = gen.uniform(), n = gen.normal();
  gen.set_state(saved);
  EXPECT_EQ(gen.uniform(), u);
  EXPECT_EQ(gen.normal(), n);
  gen.seed(7);
  EXPECT_EQ(gen.next_u64(), Generator(7).next_u64());
  EXPECT_EQ(Generator(9).state(), 9u);
}

TEST(GeneratorTest, DefaultGeneratorFollowsManualSeed) {
  manual_seed(99);
  const uint64_t first = default_generator().next_u64();
  EXPECT_EQ(first, Generator(99).next_u64());
  manual_seed(99);
  EXPECT_EQ(default_generator().next_u64(), first);
  EXPECT_EQ(&default_generator(), &default_generator()) << "one process-wide generator";
}

TEST(GeneratorTest, UniformIsInUnitIntervalWithRightMoments) {
  Generator gen(1);
  std::vector<double> v;
  for (int i = 0; i < 100000; ++i) {
    double u = gen.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    v.push_back(u);
  }
  Moments m = moments(v);
  EXPECT_NEAR(m.mean, 0.5, 0.005);
  EXPECT_NEAR(m.variance, 1.0 / 12.0, 0.002);
}

TEST(GeneratorTest, NormalHasZeroMeanUnitVariance) {
  Generator gen(2);
  std::vector<double> v;
  for (int i = 0; i < 100000; ++i) {
    double x = gen.normal();
    ASSERT_TRUE(std::isfinite(x));
    v.push_back(x);
  }
  Moments m = moments(v);
  EXPECT_NEAR(m.mean, 0.0, 0.015);
  EXPECT_NEAR(m.variance, 1.0, 0.02);
  int beyond_two = 0;
  for (double x : v) beyond_two += std::abs(x) > 2.0;
  EXPECT_NEAR(beyond_two / 100000.0, 0.0455, 0.003) << "tails of a standard normal";
}

TEST(FillTest, UniformRangeAndDtypes) {
  Generator gen(3);
  TensorBase f = TensorBase::empty({1000});
  fill_uniform(f, -2.0, 3.0, gen);
  for (double x : contents<float>(f)) {
    ASSERT_GE(x, -2.0);
    ASSERT_LE(x, 3.0);  // rounding to f32 can land on the upper bound
  }
  EXPECT_NEAR(moments(contents<float>(f)).mean, 0.5, 0.15);
  TensorBase d = TensorBase::empty({10}, DType::f64);
  fill_uniform(d, 4.0, 4.0, gen);
  for (double x : contents<double>(d)) EXPECT_EQ(x, 4.0);
  TensorBase h = TensorBase::empty({100}, DType::bf16);
  fill_uniform(h, 0.0, 1.0, gen);
  for (double x : contents<bf16>(h)) {
    EXPECT_GE(x, 0.0);
    EXPECT_LE(x, 1.0);
  }
}

TEST(FillTest, NormalMoments) {
  Generator gen(4);
  TensorBase t = TensorBase::empty({20000}, DType::f64);
  fill_normal(t, 3.0, 0.5, gen);
  Moments m = moments(contents<double>(t));
  EXPECT_NEAR(m.mean, 3.0, 0.02);
  EXPECT_NEAR(std::sqrt(m.variance), 0.5, 0.01);
  TensorBase h = TensorBase::empty({8}, DType::f16);
  fill_normal(h, 0.0, 0.0, gen);
  for (double x : contents<f16>(h)) EXPECT_EQ(x, 0.0);
}

TEST(FillTest, SameSeedSameValuesInEveryDtype) {
  Generator a(5), b(5);
  TensorBase f = TensorBase::empty({50});
  TensorBase d = TensorBase::empty({50}, DType::f64);
  fill_normal(f, 0.0, 1.0, a);
  fill_normal(d, 0.0, 1.0, b);
  std::vector<double> fv = contents<float>(f), dv = contents<double>(d);
  for (size_t i = 0; i < fv.size(); ++i) EXPECT_EQ(fv[i], static_cast<double>(static_cast<float>(dv[i])));
}

TEST(FillTest, StridedViewsFillInIndexOrder) {
  // Filling the transpose of a buffer must give the view, read in index order, the values a
  // contiguous fill gives in storage order.
  TensorBase buffer = TensorBase::empty({3, 4});
  TensorBase transposed = buffer.as_strided({4, 3}, {1, 4}, 0);
  Generator a(6), b(6);
  fill_uniform(transposed, 0.0, 1.0, a);
  TensorBase reference = TensorBase::empty({4, 3});
  fill_uniform(reference, 0.0, 1.0, b);
  const float* buf = buffer.data_ptr<float>();
  const float* ref = reference.data_ptr<float>();
  for (int64_t i = 0; i < 4; ++i) {
    for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(buf[i + 4 * j], ref[i * 3 + j]) << i << ", " << j;
  }
  // A view with an offset writes only its own elements.
  TensorBase row = TensorBase::empty({2, 3});
  float* r = row.data_ptr<float>();
  for (int i = 0; i < 6; ++i) r[i] = -1.0f;
  fill_uniform(row.as_strided({3}, {1}, 3), 0.0, 1.0, a);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r[i], -1.0f);
  for (int i = 3; i < 6; ++i) EXPECT_GE(r[i], 0.0f);
}

TEST(FillTest, Errors) {
  Generator gen;
  TensorBase ints = TensorBase::empty({3}, DType::i32);
  EXPECT_EQ(error_of([&] { fill_uniform(ints, 0.0, 1.0, gen); }),
            "uniform: needs a floating-point tensor, got i32 [3]");
  EXPECT_EQ(error_of([&] { fill_normal(ints, 0.0, 1.0, gen); }), "normal: needs a floating-point tensor, got i32 [3]");
  TensorBase f = TensorBase::empty({3});
  EXPECT_EQ(error_of([&] { fill_uniform(f, 2.0, 1.0, gen); }), "uniform: low 2 exceeds high 1");
  EXPECT_EQ(error_of([&] { fill_normal(f, 0.0, -1.0, gen); }),
            "normal: standard deviation must be non-negative, got -1");
}

}  // namespace
}  // namespace dendrite
