// Optimizer: updates parameters in place from their gradients. Every optimiser keeps its state as
// named tensors plus a step count, so checkpoints can save and restore it exactly (bit-exact
// resume) and users can inspect it ("0.weight.exp_avg").
//
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dendrite/nn/module.h"

namespace dendrite::optim {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Applies one update to every parameter that has a gradient (under NoGradGuard), then step()++.
  virtual void step() = 0;
  // Clears the parameters' gradients.
  void zero_grad();

  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }  // schedules call this before step()
  int64_t step_count() const { return step_count_; }

  // The state, as named tensors: "<param name>.<slot>" (e.g. "fc1.weight.momentum_buffer"),
  // plus the step count and learning rate as scalar entries of state_scalars().
  virtual nn::NamedTensors state() const = 0;
  // Restores state saved by state(); throws naming the first missing or mismatched entry.
  virtual void load_state(const nn::NamedTensors& state) = 0;
  std::vector<std::pair<std::string, double>> state_scalars() const;
  void load_state_scalars(const std::vector<std::pair<std::string, double>>& scalars);

  const nn::NamedTensors& params() const { return params_; }

 protected:
  Optimizer(nn::NamedTensors params, double lr);
  nn::NamedTensors params_;
  double lr_;
  int64_t step_count_ = 0;
};

}  // namespace dendrite::optim
