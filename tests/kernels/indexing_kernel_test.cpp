// The cpu index_select and index_add kernels against the reference backend: every axis of a 3-D
// tensor, repeated and unsorted indices, a strided index, non-contiguous operands (a transpose,
// which the cpu kernels take where the axis allows and hand to the reference ones otherwise; a
// slice of the last dimension, as an LSTM's h is of its [B, 2H] buffer), and dtypes whose values a round trip through
// double would change (large i64).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "dendrite/core/random.h"
#include "dendrite/kernels/registry.h"
#include "kernels/backend_compare.h"

namespace dendrite::kernels {
namespace {

using testing::clone;
using testing::expect_close;
using testing::random;
using testing::values;

// i64 [n] holding `ids`, or every other element of a [2n] buffer when strided.
TensorBase index_tensor(const std::vector<int64_t>& ids, bool strided) {
  const auto n = static_cast<int64_t>(ids.size());
  TensorBase buffer = TensorBase::empty({strided ? 2 * n : n}, DType::i64);
  auto* p = static_cast<int64_t*>(buffer.raw_data());
  for (int64_t i = 0; i < buffer.numel(); ++i) p[i] = -1;
  for (int64_t i = 0; i < n; ++i) p[strided ? 2 * i : i] = ids[static_cast<size_t>(i)];
  return strided ? buffer.as_strided({n}, {2}, 0) : buffer;
}

TensorBase transposed01(const TensorBase& t) {
  return t.as_strided({t.size(1), t.size(0), t.size(2)}, {t.stride(1), t.stride(0), t.stride(2)}, t.offset());
}

// The last dimension without its first and last elements: rows of 4 contiguous elements 6 apart,
// at an offset (every axis still holds the indices, all < 4).
TensorBase sliced2(const TensorBase& t) {
  return t.as_strided({t.size(0), t.size(1), t.size(2) - 2}, {t.stride(0), t.stride(1), t.stride(2)}, t.offset() + 1);
}

const Shape kShape{4, 5, 6};
const std::vector<int64_t> kIds{3, 0, 3, 1, 2, 0, 3};  // repeated, unsorted; all < 4 (the smallest axis)

TEST(IndexingKernel, CpuIndexSelectMatchesReference) {
  Generator gen(5);
  for (DType dtype : {DType::f32, DType::f64, DType::i64}) {
    for (int64_t axis = 0; axis < 3; ++axis) {
      for (bool strided_index : {false, true}) {
        for (const std::string layout : {"contiguous", "transposed", "sliced"}) {
          const std::string where = std::string(name(dtype)) + " axis " + std::to_string(axis) +
                                    (strided_index ? " strided index " : " ") + layout;
          TensorBase src = random(kShape, DType::f64, gen);
          if (dtype == DType::i64) {
            TensorBase big = TensorBase::empty(kShape, DType::i64);
            auto* p = static_cast<int64_t*>(big.raw_data());
            for (int64_t i = 0; i < big.numel(); ++i) p[i] = (int64_t{1} << 60) + i * 7;  // not exact in double
            src = big;
          } else if (dtype == DType::f32) {
            src = random(kShape, DType::f32, gen);
          }
          if (layout == "transposed") src = transposed01(src);
          if (layout == "sliced") src = sliced2(src);
          const TensorBase index = index_tensor(kIds, strided_index);
          Shape out_shape = src.shape();
          out_shape[static_cast<size_t>(axis)] = static_cast<int64_t>(kIds.size());
          auto run = [&](Backend backend) {
            TensorBase out = TensorBase::empty(out_shape, dtype);
            Registry::global().find<OpId::index_select>(backend, dtype)(src, axis, index, out);
            return out;
          };
          const std::vector<double> cpu = values(run(Backend::cpu)), ref = values(run(Backend::reference));
          EXPECT_EQ(cpu, ref) << where;
          if (dtype == DType::i64) {
            TensorBase a = run(Backend::cpu), b = run(Backend::reference);
            EXPECT_EQ(0, std::memcmp(a.raw_data(), b.raw_data(), static_cast<size_t>(a.numel()) * 8)) << where;
          }
        }
      }
    }
  }
}

TEST(IndexingKernel, CpuIndexAddMatchesReference) {
  Generator gen(6);
  for (DType dtype : {DType::f32, DType::f64}) {
    for (int64_t axis = 0; axis < 3; ++axis) {
      for (bool strided_index : {false, true}) {
        for (bool transposed_dst : {false, true}) {
          const std::string where = std::string(name(dtype)) + " axis " + std::to_string(axis) +
                                    (strided_index ? " strided index" : "") + (transposed_dst ? " transposed" : "");
          const TensorBase dst0 = random(kShape, dtype, gen);
          Shape src_shape = kShape;
          if (transposed_dst) std::swap(src_shape[0], src_shape[1]);
          src_shape[static_cast<size_t>(axis)] = static_cast<int64_t>(kIds.size());
          const TensorBase src = random(src_shape, dtype, gen), index = index_tensor(kIds, strided_index);
          auto run = [&](Backend backend) {
            TensorBase dst = clone(dst0);
            if (transposed_dst) dst = transposed01(dst);
            Registry::global().find<OpId::index_add>(backend, dtype)(dst, axis, index, src);
            return dst;
          };
          expect_close(run(Backend::cpu), run(Backend::reference), where);
        }
      }
    }
  }
}

}  // namespace
}  // namespace dendrite::kernels
