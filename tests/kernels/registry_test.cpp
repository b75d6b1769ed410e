#include <gtest/gtest.h>

#include "dendrite/kernels/registry.h"

namespace dendrite::kernels {
namespace {

TEST(Registry, ReferenceServesEveryOpItClaims) {
  const Registry& r = Registry::global();
  EXPECT_NE(r.find<OpId::copy>(Backend::reference, DType::bf16), nullptr);
  EXPECT_NE(r.find<OpId::binary>(Backend::reference, DType::i64), nullptr);
  EXPECT_NE(r.find<OpId::matmul>(Backend::reference, DType::f64), nullptr);
}

TEST(Registry, DispatchFallsBackToReference) {
  // The cpu backend has no f64 matmul (oneDNN is f32 here); dispatch must still find one.
  EXPECT_NE(dispatch<OpId::matmul>(DType::f64), nullptr);
  ScopedBackend only_reference({Backend::reference});
  EXPECT_EQ(dispatched_backend(OpId::matmul, DType::f32), Backend::reference);
}

TEST(Registry, MissingKernelNamesOpDtypeAndBackends) {
  ScopedBackend only_cuda({Backend::cuda});
  try {
    dispatch<OpId::matmul>(DType::i8);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "matmul: no kernel for dtype i8 (backends tried: cuda)");
  }
}

TEST(Registry, ScopedBackendRestoresTheOrder) {
  auto before = std::vector<Backend>(backend_order().begin(), backend_order().end());
  {
    ScopedBackend pinned({Backend::reference});
    EXPECT_EQ(backend_order().size(), 1u);
  }
  EXPECT_EQ(std::vector<Backend>(backend_order().begin(), backend_order().end()), before);
}

TEST(Registry, ReferenceCopyConvertsAndFollowsStrides) {
  TensorBase src = TensorBase::empty({2, 3}, DType::f32);
  float* p = src.data_ptr<float>();
  for (int i = 0; i < 6; ++i) p[i] = static_cast<float>(i) + 0.25f;
  TensorBase transposed = src.as_strided({3, 2}, {1, 3}, 0);
  TensorBase dst = TensorBase::empty({3, 2}, DType::i32);
  Registry::global().find<OpId::copy>(Backend::reference, DType::f32)(transposed, dst);
  const int32_t* d = dst.data_ptr<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(d, d + 6), (std::vector<int32_t>{0, 3, 1, 4, 2, 5}));
}

}  // namespace
}  // namespace dendrite::kernels
