// cpu lookups and scatters by i64 index (contract in kernels/ops.h) for the layouts that matter:
// contiguous operands (for index_select's source, any whose inner block is contiguous), read as
// [outer, axis, inner] so that every index moves one block of `inner` elements. index_select copies blocks by bytes
// (any dtype); index_add (f32, f64) adds them with a vector loop. Other layouts go to the reference kernels. Beam
// search reorders its decoder state with index_select at every step, and the reference's element-by-element walk was a
// fifth of W7's decoding time (perf, 1 thread).
#include <algorithm>
#include <cstring>
#include <optional>

#include "dendrite/core/threading.h"
#include "dendrite/kernels/cpu/cpu.h"

namespace dendrite::kernels::cpu {

namespace {

// A contiguous tensor as [outer, axis, inner].
struct Blocks {
  int64_t outer = 1, inner = 1;
};

Blocks blocks(const TensorBase& t, int64_t axis) {
  Blocks b;
  for (int64_t i = 0; i < axis; ++i) b.outer *= t.size(i);
  for (int64_t i = axis + 1; i < t.dim(); ++i) b.inner *= t.size(i);
  return b;
}

const int64_t* indices(const TensorBase& index) { return static_cast<const int64_t*>(index.raw_data()); }

// A source read as [outer, axis, inner] with its own element strides for outer and axis, when its
// inner block is contiguous and its outer dimensions merge into one: what a column slice of a
// matrix is (an LSTM's h and c are halves of one [B, 2H] buffer, and beam search reorders them).
struct StridedBlocks {
  int64_t outer_stride = 0, axis_stride = 0;
};

std::optional<StridedBlocks> strided_blocks(const TensorBase& t, int64_t axis) {
  int64_t expected = 1;
  for (int64_t d = t.dim() - 1; d > axis; --d) {
    if (t.size(d) != 1 && t.stride(d) != expected) return std::nullopt;
    expected *= t.size(d);
  }
  StridedBlocks b{0, t.stride(axis)};
  int64_t merged = -1;  // the stride one step of the merged outer index moves, once known
  for (int64_t d = axis - 1; d >= 0; --d) {
    if (t.size(d) == 1) continue;
    if (merged < 0) {
      b.outer_stride = t.stride(d);
    } else if (t.stride(d) != merged) {
      return std::nullopt;
    }
    merged = t.stride(d) * t.size(d);
  }
  return b;
}

void index_select(const TensorBase& src, int64_t axis, const TensorBase& index, const TensorBase& out) {
  const std::optional<StridedBlocks> from = strided_blocks(src, axis);
  if (!from || !out.is_contiguous()) {
    return Registry::global().find<OpId::index_select>(Backend::reference, src.dtype())(src, axis, index, out);
  }
  const Blocks b = blocks(out, axis);
  const int64_t count = index.size(0), step = index.stride(0);
  const size_t element = element_size(src.dtype()), bytes = static_cast<size_t>(b.inner) * element;
  const auto* ps = static_cast<const std::byte*>(src.raw_data());
  auto* po = static_cast<std::byte*>(out.raw_data());
  const int64_t* pi = indices(index);
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, b.inner));
  parallel_for(0, b.outer * count, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t o = r / count, k = r % count;
      const int64_t at = o * from->outer_stride + pi[k * step] * from->axis_stride;
      std::memcpy(po + static_cast<size_t>(r) * bytes, ps + static_cast<size_t>(at) * element, bytes);
    }
  });
}

// dst[.., index[k], ..] += src[.., k, ..]. Duplicate indices add in index order, so threads split
// the inner columns, never the indices.
template <typename T>
void index_add(const TensorBase& dst, int64_t axis, const TensorBase& index, const TensorBase& src) {
  if (!dst.is_contiguous() || !src.is_contiguous()) {
    return Registry::global().find<OpId::index_add>(Backend::reference, dst.dtype())(dst, axis, index, src);
  }
  const Blocks b = blocks(src, axis);
  const int64_t count = index.size(0), step = index.stride(0), dst_rows = dst.size(axis);
  const T* ps = static_cast<const T*>(src.raw_data());
  T* pd = static_cast<T*>(dst.raw_data());
  const int64_t* pi = indices(index);
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, b.outer * count));
  parallel_for(0, b.inner, grain, [&](int64_t j0, int64_t j1) {
    for (int64_t o = 0; o < b.outer; ++o) {
      for (int64_t k = 0; k < count; ++k) {
        const T* from = ps + (o * count + k) * b.inner;
        T* to = pd + (o * dst_rows + pi[k * step]) * b.inner;
#pragma omp simd
        for (int64_t j = j0; j < j1; ++j) to[j] += from[j];
      }
    }
  });
}

}  // namespace

void register_indexing(Registry& registry) {
  registry.add<OpId::index_select>(
      Backend::cpu, {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i8, DType::u8, DType::i32, DType::i64},
      index_select);
  registry.add<OpId::index_add>(Backend::cpu, DType::f32, index_add<float>);
  registry.add<OpId::index_add>(Backend::cpu, DType::f64, index_add<double>);
}

}  // namespace dendrite::kernels::cpu
