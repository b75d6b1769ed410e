// Operands whose values the caller promises not to change for a while, so that a backend may
// convert them once and reuse the conversion across calls. A recurrent layer multiplies by the same
// W_hh at every time step; oneDNN's matmul copies a plain weight matrix into its blocked layout on
// every call, which for the 64 x 256 x 1024 step product of W3 is 12% of the product at one thread
// and all of its two-thread speed-up (docs/performance.md, "W3 at two threads").
//
//   kernels::ConstantOperand frozen(w_hh);   // w_hh's values stay as they are until `frozen` ends
//   for (t ...) matmul(h, w_hh.t(), ...);    // the cpu backend packs w_hh once, on the first call
//
// A declaration covers every view that reads only the declared elements (a transposed view, a row
// range), on the declaring thread only. Writing to a declared tensor while the declaration lives
// is a bug that gives stale results; keep the scope as short as the loop that needs it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "dendrite/core/tensor_base.h"

namespace dendrite::kernels {

// The conversions a backend made of views of one declared operand, by the view's first address and
// a key of the backend's choosing that must describe the rest of the view (oneDNN: the primitive's
// key, which holds the view's dims and strides, since the packed layout depends on the product's
// shape and the thread count).
class ConversionCache {
 public:
  std::shared_ptr<const TensorBase> find(const TensorBase& view, const std::string& key) const;
  // Keeps `converted` for `view` and returns the kept copy.
  std::shared_ptr<const TensorBase> insert(const TensorBase& view, const std::string& key, TensorBase converted);

 private:
  std::unordered_map<std::string, std::shared_ptr<const TensorBase>> entries_;
};

class ConstantOperand {
 public:
  // t must be contiguous (its elements are then exactly one address range).
  explicit ConstantOperand(const TensorBase& t);
  ~ConstantOperand();
  ConstantOperand(const ConstantOperand&) = delete;
  ConstantOperand& operator=(const ConstantOperand&) = delete;

 private:
  friend ConversionCache* constant_operand_cache(const TensorBase& view);
  TensorBase tensor_;  // keeps the storage alive, so its addresses cannot be reused meanwhile
  const std::byte* begin_;
  const std::byte* end_;
  ConversionCache cache_;
};

// The cache of the innermost live declaration on this thread whose elements include every element
// `view` reads; nullptr when there is none.
ConversionCache* constant_operand_cache(const TensorBase& view);

}  // namespace dendrite::kernels
