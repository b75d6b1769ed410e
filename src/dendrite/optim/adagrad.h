// Adagrad (Duchi, Hazan and Singer 2011), the optimiser DistBelief's Downpour SGD ran on its
// parameter shards (Dean et al. 2012). The update of PyTorch's torch.optim.Adagrad:
//
//   t = the parameter's update count (1 on the first)
//   clr = lr / (1 + (t - 1) * lr_decay)
//   d = grad + weight_decay * param
//   sum += d * d                      (sum starts at initial_accumulator_value)
//   param -= clr * d / (sqrt(sum) + eps)
//
// State: "<param>.sum" and "<param>.step".
#pragma once

#include "dendrite/optim/optimizer.h"

namespace dendrite::optim {

struct AdagradOptions {
  double lr = 0.01;
  double lr_decay = 0.0;
  double weight_decay = 0.0;
  double initial_accumulator_value = 0.0;
  double eps = 1e-10;
};

class Adagrad : public Optimizer {
 public:
  Adagrad(nn::NamedTensors params, AdagradOptions options = {});
  const AdagradOptions& options() const { return options_; }

 protected:
  void update(size_t index, const Tensor& grad, int64_t param_step) override;

 private:
  AdagradOptions options_;
};

}  // namespace dendrite::optim
