// MathPrecision::bf16: matrix products round their operands to bfloat16 and accumulate in f32.
// The cpu kernel's result must match the exact product of the bf16-rounded operands (computed here
// in double) far more closely than it matches the f32 product, and the setting must scope.
#include "dendrite/kernels/precision.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "dendrite/core/random.h"
#include "dendrite/kernels/constant_operand.h"
#include "dendrite/kernels/registry.h"
#include "support/tensors.h"

namespace dendrite::kernels {
namespace {

using ::testing::HasSubstr;

using test_support::at;
using test_support::randn;

double round_bf16(float v) { return static_cast<float>(bf16(v)); }

// a [M, K] @ b [K, N] in double, operands first rounded to bf16 when `rounded`.
std::vector<double> product(const TensorBase& a, const TensorBase& b, bool rounded) {
  const int64_t M = a.shape()[0], K = a.shape()[1], N = b.shape()[1];
  std::vector<double> out(static_cast<size_t>(M * N), 0.0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k) {
      const double x = rounded ? round_bf16(at(a, m * K + k)) : at(a, m * K + k);
      for (int64_t n = 0; n < N; ++n) {
        const double y = rounded ? round_bf16(at(b, k * N + n)) : at(b, k * N + n);
        out[static_cast<size_t>(m * N + n)] += x * y;
      }
    }
  return out;
}

double max_error(const TensorBase& got, const std::vector<double>& want) {
  double worst = 0.0;
  for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(at(got, static_cast<int64_t>(i)) - want[i]));
  return worst;
}

TEST(MathPrecision, ParsesAndScopes) {
  EXPECT_EQ(parse_math_precision("bf16", "--precision"), MathPrecision::bf16);
  EXPECT_EQ(parse_math_precision("f32", "--precision"), MathPrecision::f32);
  EXPECT_THAT([] { parse_math_precision("fp16", "--precision"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("--precision: unknown precision 'fp16'; choose f32 or bf16")));
  const MathPrecision before = math_precision();
  {
    ScopedMathPrecision scoped(MathPrecision::bf16);
    EXPECT_EQ(math_precision(), MathPrecision::bf16);
    EXPECT_EQ(name(math_precision()), "bf16");
  }
  EXPECT_EQ(math_precision(), before);
}

TEST(MathPrecision, Bf16ProductsRoundTheOperands) {
  auto matmul = Registry::global().find<OpId::matmul>(Backend::cpu, DType::f32);
  if (matmul == nullptr) GTEST_SKIP() << "no cpu matmul";
  Generator gen(11);
  const int64_t M = 32, K = 48, N = 40;
  TensorBase a = randn({M, K}, gen), b = randn({K, N}, gen);
  // b also as a transposed view, as Linear passes its weight.
  TensorBase bt_storage = randn({N, K}, gen);
  TensorBase bt = bt_storage.as_strided({K, N}, {1, K}, 0);
  for (const TensorBase* w : {&b, &bt}) {
    TensorBase dense_w = TensorBase::empty({K, N});
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n)
        static_cast<float*>(dense_w.raw_data())[k * N + n] =
            static_cast<const float*>(w->raw_data())[k * w->stride(0) + n * w->stride(1)];
    TensorBase f32_out = TensorBase::empty({M, N}), bf16_out = TensorBase::empty({M, N});
    {
      ScopedMathPrecision scoped(MathPrecision::f32);
      matmul(a, *w, {}, f32_out);
    }
    {
      ScopedMathPrecision scoped(MathPrecision::bf16);
      matmul(a, *w, {}, bf16_out);
    }
    const std::vector<double> exact = product(a, dense_w, false), rounded = product(a, dense_w, true);
    EXPECT_LT(max_error(f32_out, exact), 1e-4);
    // bf16 keeps 8 bits of mantissa: each rounded term is off by up to ~2^-8 relative, so the
    // f32 product is far from the bf16 one, while the bf16 kernel matches the rounded operands'
    // exact product to f32 accumulation error.
    EXPECT_GT(max_error(bf16_out, exact), 1e-3);
    EXPECT_LT(max_error(bf16_out, rounded), 1e-4);
  }
}

TEST(MathPrecision, SmallProductsStayF32) {
  auto matmul = Registry::global().find<OpId::matmul>(Backend::cpu, DType::f32);
  if (matmul == nullptr) GTEST_SKIP() << "no cpu matmul";
  Generator gen(12);
  TensorBase a = randn({8, 8}, gen), b = randn({8, 8}, gen), out = TensorBase::empty({8, 8});
  ScopedMathPrecision scoped(MathPrecision::bf16);
  matmul(a, b, {}, out);
  EXPECT_LT(max_error(out, product(a, b, false)), 1e-5);
}

// Batch-1 inference of frozen weights: under bf16 a one-row product reads the weights' bf16 copy
// (made once), so it is rounded like any bf16 product; the same row against weights not declared
// constant stays on the f32 path (its conversion would cost more than the product).
TEST(MathPrecision, OneRowProductsOfConstantWeightsUseBf16) {
  auto matmul = Registry::global().find<OpId::matmul>(Backend::cpu, DType::f32);
  if (matmul == nullptr) GTEST_SKIP() << "no cpu matmul";
  Generator gen(14);
  const int64_t K = 64, N = 48;
  const TensorBase a = randn({1, K}, gen), w_storage = randn({N, K}, gen);
  const TensorBase w = w_storage.as_strided({K, N}, {1, K}, 0);  // w^T, as Linear passes it
  TensorBase dense_w = TensorBase::empty({K, N});
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) static_cast<float*>(dense_w.raw_data())[k * N + n] = at(w_storage, n * K + k);
  const std::vector<double> exact = product(a, dense_w, false), rounded = product(a, dense_w, true);

  const ScopedMathPrecision scoped(MathPrecision::bf16);
  TensorBase plain = TensorBase::empty({1, N});
  matmul(a, w, {}, plain);
  EXPECT_LT(max_error(plain, exact), 1e-4);
  const ConstantOperand frozen(w_storage);
  for (int call = 0; call < 2; ++call) {  // the first converts the weights, the second reuses them
    TensorBase out = TensorBase::empty({1, N});
    matmul(a, w, {}, out);
    EXPECT_GT(max_error(out, exact), 1e-3) << "call " << call;
    EXPECT_LT(max_error(out, rounded), 1e-4) << "call " << call;
  }
}

// A copy of t with every element rounded to bf16 (kept in f32).
TensorBase rounded_copy(const TensorBase& t) {
  TensorBase r = TensorBase::empty(t.shape());
  for (int64_t i = 0; i < t.numel(); ++i) static_cast<float*>(r.raw_data())[i] = static_cast<float>(round_bf16(at(t, i)));
  return r;
}

double max_difference(const TensorBase& a, const TensorBase& b) {
  double worst = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, static_cast<double>(std::abs(at(a, i) - at(b, i))));
  return worst;
}

// Each convolution pass under bf16 equals the reference pass on bf16-rounded inputs (to f32
// accumulation error) and differs from the f32 pass.
TEST(MathPrecision, Bf16ConvolutionsRoundTheirInputs) {
  auto& r = Registry::global();
  auto fwd = r.find<OpId::conv2d_forward>(Backend::cpu, DType::f32);
  auto bwd_d = r.find<OpId::conv2d_backward_data>(Backend::cpu, DType::f32);
  auto bwd_w = r.find<OpId::conv2d_backward_weights>(Backend::cpu, DType::f32);
  auto ref_fwd = r.find<OpId::conv2d_forward>(Backend::reference, DType::f32);
  auto ref_bwd_d = r.find<OpId::conv2d_backward_data>(Backend::reference, DType::f32);
  auto ref_bwd_w = r.find<OpId::conv2d_backward_weights>(Backend::reference, DType::f32);
  if (!fwd || !bwd_d || !bwd_w || !ref_fwd || !ref_bwd_d || !ref_bwd_w) GTEST_SKIP() << "no conv kernels";
  Generator gen(13);
  Conv2dParams p;
  p.padding = {1, 1};
  const TensorBase x = randn({2, 16, 8, 8}, gen), w = randn({32, 16, 3, 3}, gen), gy = randn({2, 32, 8, 8}, gen);
  const TensorBase xr = rounded_copy(x), wr = rounded_copy(w), gyr = rounded_copy(gy);
  auto fresh = [](const Shape& s) { return TensorBase::empty(s); };

  TensorBase y16 = fresh(gy.shape()), y32 = fresh(gy.shape()), y_want = fresh(gy.shape());
  TensorBase gx16 = fresh(x.shape()), gx32 = fresh(x.shape()), gx_want = fresh(x.shape());
  TensorBase gw16 = fresh(w.shape()), gw32 = fresh(w.shape()), gw_want = fresh(w.shape());
  {
    ScopedMathPrecision scoped(MathPrecision::bf16);
    fwd(x, w, {}, p, y16);
    bwd_d(gy, w, p, gx16);
    bwd_w(x, gy, p, gw16, {});
  }
  {
    ScopedMathPrecision scoped(MathPrecision::f32);
    fwd(x, w, {}, p, y32);
    bwd_d(gy, w, p, gx32);
    bwd_w(x, gy, p, gw32, {});
  }
  ref_fwd(xr, wr, {}, p, y_want);
  ref_bwd_d(gyr, wr, p, gx_want);
  ref_bwd_w(xr, gyr, p, gw_want, {});
  EXPECT_LT(max_difference(y16, y_want), 1e-3);
  EXPECT_LT(max_difference(gx16, gx_want), 1e-3);
  EXPECT_LT(max_difference(gw16, gw_want), 1e-2);  // sums over 128 positions: larger values
  EXPECT_GT(max_difference(y16, y32), 1e-3);
  EXPECT_GT(max_difference(gw16, gw32), 1e-3);
}

}  // namespace
}  // namespace dendrite::kernels
