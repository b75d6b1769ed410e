// Linear: y = x W^T + b with W [out, in] (PyTorch's layout), over the last axis of x, so inputs
// may carry any number of leading batch axes ([N, in] or [N, T, in]).
#pragma once

#include "dendrite/core/random.h"
#include "dendrite/nn/module.h"

namespace dendrite::nn {

class Linear : public Module {
 public:
  // Initialised as PyTorch does: kaiming_uniform_(a = sqrt(5)) for the weight, which is
  // U(-1/sqrt(in), 1/sqrt(in)), and the same bound for the bias.
  Linear(int64_t in_features, int64_t out_features, bool with_bias = true);
  // Redraws the weight and bias from `gen` with the default initialisation.
  void reset_parameters(Generator& gen = default_generator());

  Tensor forward(const Tensor& x) override;
  std::string name() const override;

  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }

  Tensor weight;  // [out, in]
  Tensor bias;    // [out], undefined without bias

 private:
  int64_t in_;
  int64_t out_;
};

}  // namespace dendrite::nn
