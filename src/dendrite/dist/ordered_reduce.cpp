#include "dendrite/dist/ordered_reduce.h"

#include <type_traits>

namespace dendrite::dist {

void sum_in_rank_order(const TensorBase& gathered, const TensorBase& out, int ranks) {
  DENDRITE_CHECK(out.is_contiguous() && gathered.is_contiguous() && gathered.dtype() == out.dtype() &&
                     gathered.numel() == out.numel() * ranks,
                 "sum_in_rank_order: {} must hold {} contiguous copies of {}", describe(gathered), ranks,
                 describe(out));
  DENDRITE_CHECK(out.dtype() == DType::f32 || out.dtype() == DType::f64,
                 "sum_in_rank_order: only f32 and f64 are summed, got {}", describe(out));
  visit_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      const T* in = static_cast<const T*>(gathered.raw_data());
      T* dst = static_cast<T*>(out.raw_data());
      const int64_t n = out.numel();
      // Rank by rank over the whole tensor: the order of the additions for every element is
      // 0, 1, 2, ... and the passes stream through memory.
      for (int64_t i = 0; i < n; ++i) dst[i] = in[i];
      for (int r = 1; r < ranks; ++r) {
        const T* chunk = in + static_cast<int64_t>(r) * n;
        for (int64_t i = 0; i < n; ++i) dst[i] += chunk[i];
      }
    }
  });
}

void all_reduce_in_rank_order(Communicator& comm, const TensorBase& t, ReduceOp op) {
  DENDRITE_CHECK(op == ReduceOp::sum || op == ReduceOp::mean, "all_reduce_in_rank_order: only sum and mean, got {}",
                 name(op));
  DENDRITE_CHECK(t.is_contiguous() && (t.dtype() == DType::f32 || t.dtype() == DType::f64),
                 "all_reduce_in_rank_order: needs a contiguous f32 or f64 tensor, got {}", describe(t));
  const int size = comm.size();
  TensorBase mine = TensorBase::empty({t.numel()}, t.dtype());
  visit_dtype(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      const T* in = static_cast<const T*>(t.raw_data());
      T* dst = static_cast<T*>(mine.raw_data());
      const T scale = op == ReduceOp::mean ? T(1) / static_cast<T>(size) : T(1);
      for (int64_t i = 0, n = t.numel(); i < n; ++i) dst[i] = in[i] * scale;
    }
  });
  TensorBase gathered = TensorBase::empty({t.numel() * size}, t.dtype());
  comm.all_gather(mine, gathered);  // checked: every rank passes the same shape
  sum_in_rank_order(gathered, t, size);
}

}  // namespace dendrite::dist
