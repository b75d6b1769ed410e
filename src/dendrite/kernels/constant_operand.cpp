#include "dendrite/kernels/constant_operand.h"

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <vector>

#include "dendrite/core/error.h"

namespace dendrite::kernels {
namespace {

// The live declarations of this thread, innermost last.
std::vector<ConstantOperand*>& live() {
  thread_local std::vector<ConstantOperand*> declarations;
  return declarations;
}

// The address range [begin, end) of the elements `t` reads; empty for an empty tensor.
std::pair<const std::byte*, const std::byte*> extent(const TensorBase& t) {
  const auto* start = static_cast<const std::byte*>(t.raw_data());
  if (t.numel() == 0) return {start, start};
  int64_t low = 0, high = 0;  // element offsets of the lowest and highest element read
  for (int64_t axis = 0; axis < t.dim(); ++axis) {
    const int64_t span = (t.size(axis) - 1) * t.stride(axis);
    (span < 0 ? low : high) += span;
  }
  const auto bytes = static_cast<int64_t>(element_size(t.dtype()));
  return {start + low * bytes, start + (high + 1) * bytes};
}

// Two views with the same dims and strides at different addresses (two halves of a matrix) are
// different operands.
std::string full_key(const TensorBase& view, const std::string& key) {
  const auto address = reinterpret_cast<uintptr_t>(view.raw_data());
  return std::string(reinterpret_cast<const char*>(&address), sizeof address) + key;
}

}  // namespace

std::shared_ptr<const TensorBase> ConversionCache::find(const TensorBase& view, const std::string& key) const {
  const auto it = entries_.find(full_key(view, key));
  return it == entries_.end() ? nullptr : it->second;
}

std::shared_ptr<const TensorBase> ConversionCache::insert(const TensorBase& view, const std::string& key,
                                                          TensorBase converted) {
  auto kept = std::make_shared<const TensorBase>(std::move(converted));
  entries_[full_key(view, key)] = kept;
  return kept;
}

ConstantOperand::ConstantOperand(const TensorBase& t) : tensor_(t.alias()) {
  DENDRITE_CHECK(t.is_contiguous(), "ConstantOperand: the declared tensor must be contiguous, got shape {} strides {}",
                 to_string(t.shape()), to_string(t.strides()));
  std::tie(begin_, end_) = extent(t);
  live().push_back(this);
}

ConstantOperand::~ConstantOperand() {
  auto& declarations = live();
  declarations.erase(std::find(declarations.begin(), declarations.end(), this));
}

ConversionCache* constant_operand_cache(const TensorBase& view) {
  auto& declarations = live();
  if (declarations.empty() || !view.defined()) return nullptr;
  const auto [begin, end] = extent(view);
  for (auto it = declarations.rbegin(); it != declarations.rend(); ++it) {
    ConstantOperand& d = **it;
    if (d.tensor_.dtype() == view.dtype() && begin >= d.begin_ && end <= d.end_ && begin < end) return &d.cache_;
  }
  return nullptr;
}

}  // namespace dendrite::kernels
