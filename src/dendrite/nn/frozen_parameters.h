// Declares every parameter of a module constant while it lives (kernels/constant_operand.h), so
// that kernels convert a weight into their preferred layout once and reuse the copy, as
// TorchScript's freezing prepacks weights for inference. What it saves: oneDNN's convolution
// reorders its plain OIHW weights into a blocked layout on every call (6 us of a 65 us batch-1 CNN
// inference, docs/performance.md "W5"), and a matmul with at least 5 rows packs its weights.
// Weights are converted on their first use, so parameters the scope never reads cost nothing.
//
//   nn::FrozenParameters frozen(model);   // the model's parameters must not change until it ends
//   for (...) y = model(x);               // inference: converted weights reused
//
// Declarations belong to the constructing thread, like the inference that uses them. Training
// (or loading new weights) inside the scope gives stale results: end the scope first.
// Measured and not kept: freezing a seq2seq decoder's weights for beam search (no gain at 2
// threads, 15% slower greedy at 1; docs/performance.md).
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
