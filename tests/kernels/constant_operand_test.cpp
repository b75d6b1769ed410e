// Declared-constant operands (kernels/constant_operand.h): which views a declaration covers, its
// lifetime, the error for a tensor it cannot cover, and the cpu matmul's packed path giving the
// same products as the plain one (whole matrices, transposed views, two halves of one matrix that
// share dims and strides, and under bf16).
#include "dendrite/kernels/constant_operand.h"

#include <gtest/gtest.h>

#include "dendrite/core/random.h"
#include "dendrite/kernels/precision.h"
#include "dendrite/kernels/registry.h"
#include "kernels/backend_compare.h"
#include "support/errors.h"

namespace dendrite::kernels {
namespace {

using testing::random;
using testing::values;

TensorBase transposed(const TensorBase& m) {
  return m.as_strided({m.size(1), m.size(0)}, {m.stride(1), m.stride(0)}, m.offset());
}

TensorBase rows(const TensorBase& m, int64_t first, int64_t count) {
  return m.as_strided({count, m.size(1)}, m.strides(), m.offset() + first * m.stride(0));
}

TEST(ConstantOperand, CoversViewsOfTheDeclaredElementsWhileItLives) {
  Generator gen(1);
  const TensorBase w = random({8, 4}, DType::f32, gen), other = random({8, 4}, DType::f32, gen);
  EXPECT_EQ(constant_operand_cache(w), nullptr);
  {
    const ConstantOperand frozen(w);
    ConversionCache* cache = constant_operand_cache(w);
    ASSERT_NE(cache, nullptr);
    EXPECT_EQ(constant_operand_cache(transposed(w)), cache);
    EXPECT_EQ(constant_operand_cache(rows(w, 4, 4)), cache);
    EXPECT_EQ(constant_operand_cache(other), nullptr);
    // A view reaching past the declared elements is not covered.
    const TensorBase both = TensorBase::empty({16, 4});
    EXPECT_EQ(constant_operand_cache(both), nullptr);
    {
      const ConstantOperand inner(other);
      EXPECT_NE(constant_operand_cache(other), nullptr);
      EXPECT_EQ(constant_operand_cache(w), cache);
    }
    EXPECT_EQ(constant_operand_cache(other), nullptr);
  }
  EXPECT_EQ(constant_operand_cache(w), nullptr);
}

TEST(ConstantOperand, OnlyContiguousTensorsCanBeDeclared) {
  const TensorBase w = TensorBase::empty({8, 4});
  const std::string error = test_support::error_of([&] { const ConstantOperand frozen(transposed(w)); });
  EXPECT_NE(error.find("must be contiguous"), std::string::npos) << error;
  EXPECT_NE(error.find("[4, 8]"), std::string::npos) << error;
}

void expect_same(const TensorBase& got, const TensorBase& want, const char* what) {
  const std::vector<double> g = values(got), w = values(want);
  ASSERT_EQ(g.size(), w.size()) << what;
  for (size_t i = 0; i < g.size(); ++i) ASSERT_NEAR(g[i], w[i], 1e-4 * (1.0 + std::abs(w[i]))) << what << ", " << i;
}

// a @ b on the cpu backend, with b declared constant or not.
TensorBase product(const TensorBase& a, const TensorBase& b, const TensorBase& declare) {
  const auto matmul = Registry::global().find<OpId::matmul>(Backend::cpu, DType::f32);
  TensorBase out = TensorBase::empty({a.size(0), b.size(1)});
  if (declare.defined()) {
    const ConstantOperand frozen(declare);
    matmul(a, b, {}, out);
    matmul(a, b, {}, out);  // the second call reads the packed copy
  } else {
    matmul(a, b, {}, out);
  }
  return out;
}

TEST(ConstantOperand, PackedProductsEqualPlainOnes) {
  Generator gen(2);
  const TensorBase a = random({64, 48}, DType::f32, gen), w = random({96, 48}, DType::f32, gen);
  expect_same(product(a, transposed(w), w), product(a, transposed(w), {}), "a w^T");
  const TensorBase a2 = random({64, 96}, DType::f32, gen);
  expect_same(product(a2, w, w), product(a2, w, {}), "a w");
  // Two halves of one matrix: same dims and strides, different addresses, different products.
  const auto matmul = Registry::global().find<OpId::matmul>(Backend::cpu, DType::f32);
  TensorBase top = TensorBase::empty({64, 48}), bottom = TensorBase::empty({64, 48});
  {
    const ConstantOperand frozen(w);
    matmul(a, transposed(rows(w, 0, 48)), {}, top);
    matmul(a, transposed(rows(w, 48, 48)), {}, bottom);
  }
  expect_same(top, product(a, transposed(rows(w, 0, 48)), {}), "top half");
  expect_same(bottom, product(a, transposed(rows(w, 48, 48)), {}), "bottom half");
}

TEST(ConstantOperand, PackedBf16ProductsEqualPlainOnes) {
  const ScopedMathPrecision bf16(MathPrecision::bf16);
  Generator gen(3);
  const TensorBase a = random({64, 48}, DType::f32, gen), w = random({96, 48}, DType::f32, gen);
  expect_same(product(a, transposed(w), w), product(a, transposed(w), {}), "bf16 a w^T");
}

}  // namespace
}  // namespace dendrite::kernels
