// The LSTM recurrence kernels' time loop (contract in kernels/ops.h, lstm_recurrence), written once
// over a backend's own matmul, step and copy kernels: the reference backend runs it as it is, the
// cpu backend when it has one thread (kernels/cpu/lstm_recurrence.cpp gives each thread a share of
// the batch's rows otherwise).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <vector>

#include "dendrite/kernels/ops.h"

namespace dendrite::kernels::lstm_recurrence {

// Row `row` of a contiguous [rows, B, W] buffer as a [B, W] matrix.
inline TensorBase slab(const TensorBase& buf, int64_t row) {
  const int64_t batch = buf.size(1), width = buf.size(2);
  return buf.as_strided({batch, width}, {width, 1}, buf.offset() + row * batch * width);
}

// Rows [0, count) of a contiguous [rows, B, W] buffer as [count, B, W].
inline TensorBase first_rows(const TensorBase& buf, int64_t count) {
  return buf.as_strided({count, buf.size(1), buf.size(2)}, buf.strides(), buf.offset());
}

inline TensorBase transposed(const TensorBase& m) {
  return m.as_strided({m.size(1), m.size(0)}, {m.stride(1), m.stride(0)}, m.offset());
}

// Whether every row takes part in step t (no sequence has ended).
inline bool all_active(std::span<const int64_t> lengths, int64_t t) {
  return lengths.empty() || t < *std::min_element(lengths.begin(), lengths.end());
}

// rows (size B) of `from` copied into `to` where the row's sequence is still active at step t.
inline void copy_active_rows(const TensorBase& from, const TensorBase& to, std::span<const int64_t> lengths,
                             int64_t t) {
  const size_t bytes = static_cast<size_t>(to.size(1)) * element_size(to.dtype());
  const auto* src = static_cast<const std::byte*>(from.raw_data());
  auto* dst = static_cast<std::byte*>(to.raw_data());
  const auto from_stride = static_cast<size_t>(from.stride(0)) * element_size(from.dtype());
  const auto to_stride = static_cast<size_t>(to.stride(0)) * element_size(to.dtype());
  for (int64_t b = 0; b < to.size(0); ++b) {
    if (t < lengths[static_cast<size_t>(b)]) {
      std::memcpy(dst + static_cast<size_t>(b) * to_stride, src + static_cast<size_t>(b) * from_stride, bytes);
    }
  }
}

// The forward loop on the given kernels.
inline void forward_steps(KernelTraits<OpId::matmul>::Fn matmul, KernelTraits<OpId::lstm_forward>::Fn step,
                          const TensorBase& xg, const TensorBase& w_hh, std::span<const int64_t> lengths, bool reverse,
                          const TensorBase& state, const TensorBase& acts, const TensorBase& h_prev,
                          const TensorBase& c_prev) {
  const int64_t T = xg.size(0), B = xg.size(1), H = w_hh.size(1);
  const TensorBase hg = TensorBase::empty({B, 4 * H}, xg.dtype());
  const TensorBase h = slab(state, T), c = slab(state, T + 1), y = first_rows(state, T), w_hh_t = transposed(w_hh);
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = reverse ? T - 1 - s : s;
    matmul(h, w_hh_t, {}, hg);
    step(xg, hg, c, t, lengths, h, c, y, acts, h_prev, c_prev);
  }
}

// The backward loop on the given kernels.
inline void backward_steps(KernelTraits<OpId::matmul>::Fn matmul, KernelTraits<OpId::lstm_backward>::Fn step,
                           KernelTraits<OpId::copy>::Fn copy, const TensorBase& acts, const TensorBase& c_prev,
                           const TensorBase& w_hh, std::span<const int64_t> lengths, bool reverse,
                           const TensorBase& grad, const TensorBase& dgates, const TensorBase& dh,
                           const TensorBase& dc) {
  const int64_t T = acts.size(0), B = acts.size(1), H = w_hh.size(1);
  copy(slab(grad, T), dh);
  copy(slab(grad, T + 1), dc);
  const TensorBase dy = first_rows(grad, T);
  const TensorBase partial = all_active(lengths, T - 1) ? TensorBase() : TensorBase::empty({B, H}, dh.dtype());
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = reverse ? s : T - 1 - s;
    step(acts, c_prev, dh, dy, dc, t, lengths, dgates, dc);
    // dh of the previous state = dgates W_hh; rows that passed their state through keep theirs.
    if (all_active(lengths, t)) {
      matmul(slab(dgates, t), w_hh, {}, dh);
    } else {
      matmul(slab(dgates, t), w_hh, {}, partial);
      copy_active_rows(partial, dh, lengths, t);
    }
  }
}

}  // namespace dendrite::kernels::lstm_recurrence
