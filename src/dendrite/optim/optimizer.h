// Optimizer: updates parameters in place from their gradients. Every optimiser keeps its state as
// named tensors plus a step count, so checkpoints can save and restore it exactly (bit-exact
// resume) and users can inspect it ("0.weight.exp_avg").
//
// How a step flows: step() walks the parameters in order; a parameter whose .grad() is undefined
// is skipped (its state and its own step count stay as they are, as in PyTorch); for the others
// the subclass runs one fused pass over (param, grad, state) under NoGradGuard, in place on the
// parameter's storage (optim/fused_loop.h).
//
// State layout, per parameter "<p>" that has any state:
//   "<p>.<slot>"  one tensor per slot, the parameter's shape and dtype (momentum_buffer, sum,
//                 exp_avg, exp_avg_sq, max_exp_avg_sq)
//   "<p>.step"    0-d i64: how many updates this parameter has received (PyTorch's state['step'];
//                 it drives Adam's bias correction, Adagrad's lr decay and SGD's buffer start)
// plus state_scalars(): "step" (step() calls) and "lr".
//
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/nn/module.h"

namespace dendrite::optim {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Applies one update to every parameter that has a gradient (under NoGradGuard), then step()++.
  virtual void step();
  // Clears the parameters' gradients (sets them to undefined, like set_to_none=True).
  void zero_grad();

  double lr() const { return lr_; }
  void set_lr(double lr);  // schedules call this before step(); lr >= 0
  int64_t step_count() const { return step_count_; }
  // "SGD", "Adam", ...: the name error messages start with.
  const char* kind() const { return kind_; }

  // The state, as named tensors (layout above), in parameter order. The tensors share storage
  // with the optimiser's own state: clone them to keep a snapshot across later steps.
  virtual nn::NamedTensors state() const;
  // Restores state saved by state(): copies the values into this optimiser's own buffers
  // (converting dtype). Checks everything before changing anything; throws naming the first
  // missing, mismatched or unexpected entry.
  virtual void load_state(const nn::NamedTensors& state);
  // {"step", step_count()}, {"lr", lr()}.
  std::vector<std::pair<std::string, double>> state_scalars() const;
  void load_state_scalars(const std::vector<std::pair<std::string, double>>& scalars);

  const nn::NamedTensors& params() const { return params_; }

 protected:
  // Validates lr >= 0 and the parameters (non-empty, defined, f32/f64, requiring grad, unique
  // names, no tensor twice), naming `kind` in every message. `slots` are the per-parameter state
  // tensors this optimiser keeps (none for plain SGD).
  Optimizer(const char* kind, nn::NamedTensors params, double lr, std::vector<std::string> slots);

  // One update of parameter `index` from `grad` (defined, the parameter's shape). `param_step`
  // is the parameter's update count including this one (1 on its first update). Runs under
  // NoGradGuard with the state slots already in the parameter's dtype.
  virtual void update(size_t index, const Tensor& grad, int64_t param_step) = 0;
  // The state tensors of parameter `index`, in the order of the slot names.
  std::vector<Tensor>& slots(size_t index) { return slots_[index]; }
  // Fills every parameter's slot `slot` with `value` (Adagrad's initial accumulator).
  void fill_slot(size_t slot, double value);

  nn::NamedTensors params_;
  double lr_;
  int64_t step_count_ = 0;

 private:
  const char* kind_;
  std::vector<std::string> slot_names_;
  std::vector<std::vector<Tensor>> slots_;  // [param][slot], contiguous, the parameter's dtype
  std::vector<int64_t> param_steps_;
};

}  // namespace dendrite::optim
