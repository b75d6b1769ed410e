// Adam (Kingma and Ba 2015) and AdamW (Loshchilov and Hutter 2019), with the updates of PyTorch's
// torch.optim.Adam and torch.optim.AdamW, including AMSGrad (Reddi et al. 2018):
//
//   t = the parameter's update count (1 on the first)
//   Adam:   d = grad + weight_decay * param          (L2 decay, coupled into the gradient)
//   AdamW:  param *= 1 - lr * weight_decay; d = grad (decoupled decay)
//   m = beta1 * m + (1 - beta1) * d
//   v = beta2 * v + (1 - beta2) * d * d
//   vmax = max(vmax, v); use vmax in place of v       (amsgrad only)
//   param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//
// State: "<param>.exp_avg", "<param>.exp_avg_sq", with amsgrad "<param>.max_exp_avg_sq", and
// "<param>.step".
#pragma once

#include <array>

#include "dendrite/optim/optimizer.h"

namespace dendrite::optim {

struct AdamOptions {
  double lr = 1e-3;
  std::array<double, 2> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;
};

// The same fields; only the default weight decay differs, as in PyTorch.
struct AdamWOptions {
  double lr = 1e-3;
  std::array<double, 2> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
};

class Adam : public Optimizer {
 public:
  Adam(nn::NamedTensors params, AdamOptions options = {});
  const AdamOptions& options() const { return options_; }

 protected:
  Adam(const char* kind, nn::NamedTensors params, AdamOptions options, bool decoupled);
  void update(size_t index, const Tensor& grad, int64_t param_step) override;

 private:
  AdamOptions options_;
  bool decoupled_;  // AdamW's weight decay
};

class AdamW : public Adam {
 public:
  AdamW(nn::NamedTensors params, AdamWOptions options = {});
};

}  // namespace dendrite::optim
