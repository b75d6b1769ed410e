#include "dendrite/data/dataset.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "dendrite/core/strided_loop.h"

namespace dendrite::data {
namespace {

// Copies t's elements in row-major order to dst (contiguous), whatever t's strides. Element bytes
// are moved as they are: no dtype conversion, so it works for every dtype.
void copy_to_contiguous(const TensorBase& t, std::byte* dst) {
  const size_t item = element_size(t.dtype());
  const auto* src = static_cast<const std::byte*>(t.raw_data());
  if (t.is_contiguous()) {
    std::memcpy(dst, src, static_cast<size_t>(t.numel()) * item);
    return;
  }
  for_each_offset(t.shape(), {t.strides()}, [&](const int64_t* offsets) {
    std::memcpy(dst, src + offsets[0] * static_cast<int64_t>(item), item);
    dst += item;
  });
}

Shape batch_shape(int64_t batch, const Shape& example) {
  Shape shape{batch};
  shape.insert(shape.end(), example.begin(), example.end());
  return shape;
}

// Stacks one field (input or target) of every example into a new tensor.
Tensor stack_field(const std::vector<Example>& examples, std::span<const int64_t> indices, bool input) {
  auto field = [&](size_t k) -> const Tensor& { return input ? examples[k].input : examples[k].target; };
  const Tensor& first = field(0);
  const char* what = input ? "input" : "target";
  for (size_t k = 1; k < examples.size(); ++k) {
    const Tensor& t = field(k);
    DENDRITE_CHECK(t.defined() == first.defined(), "Dataset::gather: example {} has {} {} but example {} has {}",
                   indices[k], t.defined() ? "a" : "no", what, indices[0], first.defined() ? "one" : "none");
    DENDRITE_CHECK(!t.defined() || (t.shape() == first.shape() && t.dtype() == first.dtype()),
                   "Dataset::gather: example {} has {} {} but example {} has {}", indices[k], what, describe(t),
                   indices[0], describe(first));
  }
  if (!first.defined()) return {};
  Tensor out = TensorBase::empty(batch_shape(static_cast<int64_t>(examples.size()), first.shape()), first.dtype());
  const size_t row = static_cast<size_t>(first.numel()) * element_size(first.dtype());
  auto* dst = static_cast<std::byte*>(out.raw_data());
  for (size_t k = 0; k < examples.size(); ++k) copy_to_contiguous(field(k), dst + k * row);
  return out;
}

Tensor contiguous_detached(const Tensor& t) {
  Tensor d = t.detach();
  return d.is_contiguous() ? d : d.contiguous();
}

// Copies rows `indices` of a contiguous tensor into a new [B, ...] tensor.
Tensor gather_rows(const Tensor& t, std::span<const int64_t> indices) {
  Shape shape = t.shape();
  shape[0] = static_cast<int64_t>(indices.size());
  Tensor out = TensorBase::empty(shape, t.dtype());
  const size_t row = static_cast<size_t>(t.numel() / std::max<int64_t>(t.size(0), 1)) * element_size(t.dtype());
  const auto* src = static_cast<const std::byte*>(t.raw_data());
  auto* dst = static_cast<std::byte*>(out.raw_data());
  for (size_t k = 0; k < indices.size(); ++k) std::memcpy(dst + k * row, src + indices[k] * row, row);
  return out;
}

// Rows `indices` of a contiguous integer tensor as f32 values * scale, in one pass.
template <typename T>
void gather_scaled_rows(const Tensor& t, std::span<const int64_t> indices, double scale, const Tensor& out) {
  const int64_t row = t.numel() / std::max<int64_t>(t.size(0), 1);
  const T* src = t.data_ptr<T>();
  float* dst = out.data_ptr<float>();
  const auto s = static_cast<float>(scale);
  for (size_t k = 0; k < indices.size(); ++k) {
    // Without restrict a u8 source may alias the destination and the loop would not vectorise.
    const T* __restrict in = src + indices[k] * row;
    float* __restrict o = dst + static_cast<int64_t>(k) * row;
    for (int64_t i = 0; i < row; ++i) o[i] = static_cast<float>(in[i]) * s;
  }
}

Tensor gather_scaled(const Tensor& t, std::span<const int64_t> indices, double scale) {
  Shape shape = t.shape();
  shape[0] = static_cast<int64_t>(indices.size());
  Tensor out = TensorBase::empty(shape, DType::f32);
  switch (t.dtype()) {
    case DType::u8: gather_scaled_rows<uint8_t>(t, indices, scale, out); break;
    case DType::i32: gather_scaled_rows<int32_t>(t, indices, scale, out); break;
    case DType::i64: gather_scaled_rows<int64_t>(t, indices, scale, out); break;
    default: throw Error(fmt::format("TensorDataset: cannot scale inputs of dtype {}", name(t.dtype())));
  }
  return out;
}

}  // namespace

Batch Dataset::gather(std::span<const int64_t> indices) const {
  DENDRITE_CHECK(!indices.empty(), "Dataset::gather: no indices");
  std::vector<Example> examples;
  examples.reserve(indices.size());
  for (int64_t i : indices) {
    DENDRITE_CHECK(i >= 0 && i < size(), "Dataset::gather: index {} is out of range for {} examples", i, size());
    examples.push_back(get(i));
    DENDRITE_CHECK(examples.back().input.defined(), "Dataset::gather: example {} has no input", i);
  }
  return {stack_field(examples, indices, true), stack_field(examples, indices, false)};
}

TensorDataset::TensorDataset(Tensor inputs, Tensor targets) {
  DENDRITE_CHECK(inputs.defined() && inputs.dim() >= 1,
                 "TensorDataset: inputs need a first axis that indexes examples, got {}",
                 inputs.defined() ? describe(inputs) : "an undefined tensor");
  DENDRITE_CHECK(targets.defined() && targets.dim() >= 1,
                 "TensorDataset: targets need a first axis that indexes examples, got {}",
                 targets.defined() ? describe(targets) : "an undefined tensor");
  DENDRITE_CHECK(inputs.size(0) == targets.size(0), "TensorDataset: inputs {} hold {} examples but targets {} hold {}",
                 describe(inputs), inputs.size(0), describe(targets), targets.size(0));
  inputs_ = contiguous_detached(inputs);
  targets_ = contiguous_detached(targets);
  size_ = inputs.size(0);
}

TensorDataset TensorDataset::scaled(Tensor inputs, Tensor targets, double scale) {
  DENDRITE_CHECK(inputs.defined() && (inputs.dtype() == DType::u8 || inputs.dtype() == DType::i32 ||
                                      inputs.dtype() == DType::i64),
                 "TensorDataset::scaled: inputs must be u8, i32 or i64, got {}",
                 inputs.defined() ? describe(inputs) : "an undefined tensor");
  DENDRITE_CHECK(std::isfinite(scale) && scale != 0.0, "TensorDataset::scaled: scale must be finite and non-zero, got {}",
                 scale);
  TensorDataset set(std::move(inputs), std::move(targets));
  set.scale_ = scale;
  return set;
}

Example TensorDataset::get(int64_t index) const {
  DENDRITE_CHECK(index >= 0 && index < size_, "TensorDataset::get: index {} is out of range for {} examples", index,
                 size_);
  if (scale_ != 0.0) {
    const int64_t one[] = {index};
    return {gather_scaled(inputs_, one, scale_).select(0, 0), targets_.select(0, index).detach()};
  }
  return {inputs_.select(0, index).detach(), targets_.select(0, index).detach()};
}

Tensor TensorDataset::inputs() const {
  if (scale_ == 0.0) return inputs_;
  std::vector<int64_t> all(static_cast<size_t>(size_));
  for (int64_t i = 0; i < size_; ++i) all[static_cast<size_t>(i)] = i;
  return gather_scaled(inputs_, all, scale_);
}

Batch TensorDataset::gather(std::span<const int64_t> indices) const {
  for (int64_t i : indices) {
    DENDRITE_CHECK(i >= 0 && i < size_, "TensorDataset::gather: index {} is out of range for {} examples", i, size_);
  }
  return {scale_ != 0.0 ? gather_scaled(inputs_, indices, scale_) : gather_rows(inputs_, indices),
          gather_rows(targets_, indices)};
}

TensorDataset TensorDataset::slice(int64_t begin, int64_t end) const {
  DENDRITE_CHECK(0 <= begin && begin <= end && end <= size_,
                 "TensorDataset::slice: [{}, {}) is not a range within {} examples", begin, end, size_);
  TensorDataset part(inputs_.slice(0, begin, end).detach(), targets_.slice(0, begin, end).detach());
  part.scale_ = scale_;
  return part;
}

}  // namespace dendrite::data
