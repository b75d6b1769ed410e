// Memory formats of 4-D image tensors [N, C, H, W]. A tensor is always indexed N, C, H, W; its
// strides say where the elements lie. "Channels last" stores them N, H, W, C (the C values of one
// pixel side by side), the order in which oneDNN's convolutions run without reordering: a
// convolution writes its output channels-last, and element-wise ops, pooling and batch norm keep
// the format of their input, so a chain conv -> ReLU -> pool -> conv never converts
// (docs/performance.md, "Channels-last activations"). Every op still accepts any strides: the
// format is a speed matter, never a correctness one.
#pragma once

#include "dendrite/core/tensor_base.h"

namespace dendrite {

enum class MemoryFormat { contiguous, channels_last };

// Whether t's elements occupy exactly numel() consecutive slots in some axis order: no gaps, no
// overlap, no broadcast axis (size-1 axes ignored).
bool is_dense(const TensorBase& t);

// Whether t is 4-D and stored channels-last (size-1 axes ignored, so an [N, 1, H, W] or
// [1, C, 1, 1] tensor is both contiguous and channels-last).
bool is_channels_last(const TensorBase& t);

// Strides of a channels-last [N, C, H, W] tensor.
Strides channels_last_strides(const Shape& shape);

// channels_last when t is stored channels-last and is not also contiguous; else contiguous.
MemoryFormat memory_format_of(const TensorBase& t);

// A tensor with uninitialised elements in `format` (channels_last needs a 4-D shape).
TensorBase empty_in(MemoryFormat format, const Shape& shape, DType dtype = DType::f32);

}  // namespace dendrite
