#include "dendrite/core/memory_format.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace dendrite {

bool is_dense(const TensorBase& t) {
  if (t.numel() == 0) return true;
  std::vector<std::pair<int64_t, int64_t>> axes;  // (stride, size) of the axes that count
  for (size_t i = 0; i < t.shape().size(); ++i) {
    if (t.shape()[i] != 1) axes.emplace_back(t.strides()[i], t.shape()[i]);
  }
  std::sort(axes.begin(), axes.end());
  int64_t expected = 1;
  for (const auto& [stride, size] : axes) {
    if (stride != expected) return false;
    expected *= size;
  }
  return true;
}

Strides channels_last_strides(const Shape& shape) {
  DENDRITE_CHECK(shape.size() == 4, "channels_last: needs a 4-D [N, C, H, W] shape, got {}", to_string(shape));
  const int64_t C = shape[1], H = shape[2], W = shape[3];
  return {H * W * C, 1, W * C, C};
}

bool is_channels_last(const TensorBase& t) {
  if (t.dim() != 4) return false;
  const Strides expected = channels_last_strides(t.shape());
  for (size_t i = 0; i < 4; ++i) {
    if (t.shape()[i] != 1 && t.strides()[i] != expected[i]) return false;
  }
  return true;
}

MemoryFormat memory_format_of(const TensorBase& t) {
  return is_channels_last(t) && !t.is_contiguous() ? MemoryFormat::channels_last : MemoryFormat::contiguous;
}

TensorBase empty_in(MemoryFormat format, const Shape& shape, DType dtype) {
  TensorBase t = TensorBase::empty(shape, dtype);
  if (format == MemoryFormat::contiguous) return t;
  return t.as_strided(shape, channels_last_strides(shape), 0);
}

}  // namespace dendrite
