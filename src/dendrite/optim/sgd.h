// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay,
// with exactly the update of PyTorch's torch.optim.SGD (Sutskever et al. 2013 for the Nesterov
// form), so results match it step for step:
//
//   d = grad + weight_decay * param
//   buf = d on a parameter's first update, then buf = momentum * buf + (1 - dampening) * d
//   d = nesterov ? d + momentum * buf : buf            (when momentum != 0)
//   param -= lr * d
//
// State: "<param>.momentum_buffer" and "<param>.step" when momentum != 0; none otherwise.
#pragma once

#include "dendrite/optim/optimizer.h"

namespace dendrite::optim {

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

class SGD : public Optimizer {
 public:
  SGD(nn::NamedTensors params, SGDOptions options = {});
  const SGDOptions& options() const { return options_; }

 protected:
  void update(size_t index, const Tensor& grad, int64_t param_step) override;

 private:
  SGDOptions options_;
};

}  // namespace dendrite::optim
