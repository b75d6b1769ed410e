#include "dendrite/core/memory_format.h"

namespace dendrite {

bool is_dense(const TensorBase& t) {
  if (t.numel() == 0) return true;
  // Dense exactly when, over the axes of size > 1, the strides are distinct and each equals the
  // product of the sizes of the axes with smaller strides (the sorted-order check, without the
  // sort: element-wise kernels ask this per call, and ranks are small).
  const Shape& shape = t.shape();
  const Strides& strides = t.strides();
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) continue;
    int64_t below = 1;
    for (size_t j = 0; j < shape.size(); ++j) {
      if (j == i || shape[j] == 1) continue;
      if (strides[j] == strides[i]) return false;
      if (strides[j] < strides[i]) below *= shape[j];
    }
    if (strides[i] != below) return false;
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
