#include "dendrite/data/dataset.h"

#include <cstring>

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

Example TensorDataset::get(int64_t index) const {
  DENDRITE_CHECK(index >= 0 && index < size_, "TensorDataset::get: index {} is out of range for {} examples", index,
                 size_);
  return {inputs_.select(0, index).detach(), targets_.select(0, index).detach()};
}

Batch TensorDataset::gather(std::span<const int64_t> indices) const {
  for (int64_t i : indices) {
    DENDRITE_CHECK(i >= 0 && i < size_, "TensorDataset::gather: index {} is out of range for {} examples", i, size_);
  }
  return {gather_rows(inputs_, indices), gather_rows(targets_, indices)};
}

TensorDataset TensorDataset::slice(int64_t begin, int64_t end) const {
  DENDRITE_CHECK(0 <= begin && begin <= end && end <= size_,
                 "TensorDataset::slice: [{}, {}) is not a range within {} examples", begin, end, size_);
  return TensorDataset(inputs_.slice(0, begin, end).detach(), targets_.slice(0, begin, end).detach());
}

}  // namespace dendrite::data
