// The cpu kernel's few-row products (kernels/cpu/row_products.h) against sums in double: every
// block size and tail of the weight rows and of K, operands inside wider rows, with and without
// bias, split across threads; and the products it must leave to the caller.
#include "dendrite/kernels/cpu/row_products.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "dendrite/core/threading.h"
#include "support/tensors.h"

namespace dendrite::kernels::cpu {
namespace {

using test_support::at;
using test_support::randn;

// W [N, K] stored in rows of K + pad, seen as b = W^T [K, N] (what a Linear multiplies by).
TensorBase weight_view(int64_t N, int64_t K, int64_t pad, Generator& gen) {
  return randn({N, K + pad}, gen).as_strided({K, N}, {1, K + pad}, 0);
}

double element(const TensorBase& t, int64_t i, int64_t j) {
  return static_cast<const float*>(t.raw_data())[i * t.stride(0) + j * t.stride(1)];
}

// Compares out with a @ b + bias summed in double, to f32 rounding of the sum of |terms|.
void expect_product(const TensorBase& a, const TensorBase& b, const TensorBase& bias, const TensorBase& out) {
  const int64_t M = a.shape()[0], K = a.shape()[1], N = b.shape()[1];
  int64_t bad = 0;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double sum = bias.defined() ? at(bias, n) : 0.0, magnitude = std::abs(sum);
      for (int64_t k = 0; k < K; ++k) {
        sum += element(a, m, k) * element(b, k, n);
        magnitude += std::abs(element(a, m, k) * element(b, k, n));
      }
      const double got = at(out, m * N + n);
      if (!(std::abs(got - sum) <= 1e-6 * (1.0 + magnitude)) && ++bad <= 5)
        ADD_FAILURE() << "out[" << m << ", " << n << "] = " << got << ", want " << sum;
    }
  EXPECT_EQ(bad, 0);
}

bool have_kernel() {
  Generator gen(1);
  TensorBase out = TensorBase::empty({1, 8});
  return run_row_products(randn({1, 16}, gen), weight_view(8, 16, 0, gen), {}, out);
}

#define SKIP_WITHOUT_KERNEL() \
  if (!have_kernel()) GTEST_SKIP() << "no AVX-512 on this CPU: few-row products go to sgemm"

TEST(RowProducts, EveryBlockAndTailAgainstDoubleSums) {
  SKIP_WITHOUT_KERNEL();
  Generator gen(3);
  // N: one block of 8 and the 4- and 1-row tails in every mix; K: below, at and past 16 lanes.
  for (int64_t M = 1; M <= kRowProductMaxRows; ++M)
    for (int64_t N : {1, 3, 4, 5, 8, 11, 12, 17, 29})
      for (int64_t K : {1, 7, 16, 17, 40}) {
        SCOPED_TRACE("M " + std::to_string(M) + " N " + std::to_string(N) + " K " + std::to_string(K));
        // a's rows K + 3 apart, the weight's rows K + 2 apart.
        TensorBase a = randn({M, K + 3}, gen).as_strided({M, K}, {K + 3, 1}, 1);
        TensorBase b = weight_view(N, K, 2, gen), bias = randn({N}, gen);
        for (bool with_bias : {false, true}) {
          TensorBase out = TensorBase::empty({M, N});
          ASSERT_TRUE(run_row_products(a, b, with_bias ? bias : TensorBase(), out));
          expect_product(a, b, with_bias ? bias : TensorBase(), out);
        }
      }
}

// Large enough to be split across two threads (the W5 MLP's first layer, two rows, N not a
// multiple of the block): each output's sum is the same whichever thread computes it.
TEST(RowProducts, ThreadsSplitTheWeightRowsWithoutChangingASum) {
  SKIP_WITHOUT_KERNEL();
  Generator gen(5);
  const int64_t M = 2, K = 784, N = 515;
  TensorBase a = randn({M, K}, gen), b = weight_view(N, K, 0, gen), bias = randn({N}, gen);
  TensorBase one = TensorBase::empty({M, N}), two = TensorBase::empty({M, N});
  {
    ScopedThreads threads(1);
    ASSERT_TRUE(run_row_products(a, b, bias, one));
  }
  {
    ScopedThreads threads(2);
    ASSERT_TRUE(run_row_products(a, b, bias, two));
  }
  expect_product(a, b, bias, two);
  for (int64_t i = 0; i < M * N; ++i) ASSERT_EQ(at(one, i), at(two, i)) << "element " << i;
}

// What the kernel does not serve it leaves untouched, for sgemm or the matmul primitive.
TEST(RowProducts, LeavesOtherProductsToTheCaller) {
  SKIP_WITHOUT_KERNEL();
  Generator gen(7);
  const int64_t K = 20, N = 9;
  auto declines = [](const TensorBase& a, const TensorBase& b, const TensorBase& out) {
    for (int64_t i = 0; i < out.numel(); ++i) static_cast<float*>(out.raw_data())[i] = 12345.0f;
    const bool taken = run_row_products(a, b, {}, out);
    for (int64_t i = 0; i < out.numel(); ++i) EXPECT_EQ(at(out, i), 12345.0f) << "written at " << i;
    return !taken;
  };
  EXPECT_TRUE(declines(randn({kRowProductMaxRows + 1, K}, gen), weight_view(N, K, 0, gen),
                       TensorBase::empty({kRowProductMaxRows + 1, N})))
      << "more rows than the kernel takes";
  EXPECT_TRUE(declines(randn({1, K}, gen), randn({K, N}, gen), TensorBase::empty({1, N})))
      << "b row-major: its columns are not contiguous";
  EXPECT_TRUE(
      declines(randn({K, 2}, gen).as_strided({2, K}, {1, 2}, 0), weight_view(N, K, 0, gen), TensorBase::empty({2, N})))
      << "a transposed: its rows are not contiguous";
  EXPECT_TRUE(declines(randn({1, K}, gen), weight_view(N, K, 0, gen),
                       TensorBase::empty({1, 2 * N}).as_strided({1, N}, {2 * N, 2}, 0)))
      << "out not dense";
}

}  // namespace
}  // namespace dendrite::kernels::cpu
