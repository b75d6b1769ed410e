// Declares every parameter of a module constant while it lives (kernels/constant_operand.h), so
// that products repeated with the same weights pack them once: a decoder's step runs its cell,
// attention and output products with the same weights at every step of a beam search. Weights are
// packed on their first product, so parameters the scope never multiplies by cost nothing.
//
//   FrozenParameters frozen(model);   // the model's parameters must not change until it ends
//
// Declarations belong to the constructing thread, like the decoding that uses them.
#pragma once

#include <memory>
#include <vector>

#include "dendrite/kernels/constant_operand.h"
#include "dendrite/nn/module.h"

namespace dendrite::nn {

class FrozenParameters {
 public:
  explicit FrozenParameters(const Module& module) {
    for (const Tensor& p : module.parameters()) {
      if (p.is_contiguous()) declared_.push_back(std::make_unique<kernels::ConstantOperand>(p));
    }
  }

 private:
  std::vector<std::unique_ptr<kernels::ConstantOperand>> declared_;
};

}  // namespace dendrite::nn
