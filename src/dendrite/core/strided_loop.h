// Visiting every index of a shape while tracking the element offset of several strided tensors at
// once: the basic loop of every reference kernel and of strided copies. The innermost axis is a
// plain loop; outer axes advance like an odometer, so no division happens per element.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "dendrite/core/shape.h"

namespace dendrite {

// Calls fn(offsets) for every index of `shape` in row-major order, where offsets[k] is the
// element offset of that index in the k-th strides vector. Up to 4 operands.
template <typename Fn>
void for_each_offset(const Shape& shape, std::initializer_list<Strides> operand_strides, Fn&& fn) {
  constexpr size_t kMax = 4;
  const size_t n = operand_strides.size();
  std::array<const Strides*, kMax> strides{};
  size_t k = 0;
  for (const Strides& s : operand_strides) strides[k++] = &s;
  std::array<int64_t, kMax> offsets{};
  if (dendrite::numel(shape) == 0) return;
  const size_t rank = shape.size();
  if (rank == 0) {
    fn(offsets.data());
    return;
  }
  std::vector<int64_t> index(rank, 0);
  const int64_t inner = shape[rank - 1];
  std::array<int64_t, kMax> inner_stride{};
  for (size_t j = 0; j < n; ++j) inner_stride[j] = (*strides[j])[rank - 1];
  while (true) {
    std::array<int64_t, kMax> o = offsets;
    for (int64_t i = 0; i < inner; ++i) {
      fn(o.data());
      for (size_t j = 0; j < n; ++j) o[j] += inner_stride[j];
    }
    // Advance the odometer over the outer axes.
    size_t axis = rank - 1;
    while (true) {
      if (axis == 0) return;
      --axis;
      ++index[axis];
      for (size_t j = 0; j < n; ++j) offsets[j] += (*strides[j])[axis];
      if (index[axis] < shape[axis]) break;
      for (size_t j = 0; j < n; ++j) offsets[j] -= (*strides[j])[axis] * shape[axis];
      index[axis] = 0;
    }
  }
}

}  // namespace dendrite
