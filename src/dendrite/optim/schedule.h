// Learning-rate schedules: pure functions from the step index (0 for the first optimiser step) to
// the learning rate, so a resumed run picks up its schedule from the optimiser's step count alone.
//
//   optim::OneCycle schedule(0.1, total_steps);
//   for (...) { optim::apply_schedule(opt, schedule); ...; opt.step(); }
//
// Thread-safety: schedules are immutable; lr_at may be called from any thread.
#pragma once

#include <cstdint>

#include "dendrite/optim/optimizer.h"

namespace dendrite::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  // The learning rate for the optimiser step with index `step` (>= 0).
  virtual double lr_at(int64_t step) const = 0;
};

// base_lr * gamma^floor(step / step_size): the closed form of PyTorch's StepLR.
class StepLR final : public LRScheduler {
 public:
  StepLR(double base_lr, int64_t step_size, double gamma = 0.1);
  double lr_at(int64_t step) const override;

 private:
  double base_lr_, gamma_;
  int64_t step_size_;
};

// Linear warm-up from 0 to base_lr over warmup_steps (step / warmup_steps, as Hugging Face's
// get_cosine_schedule_with_warmup), then cosine annealing from base_lr to min_lr by total_steps
// (the closed form of PyTorch's CosineAnnealingLR, Loshchilov and Hutter's SGDR without
// restarts): min_lr + (base_lr - min_lr) * (1 + cos(pi * (step - warmup) / (total - warmup))) / 2.
// Steps at or past total_steps get min_lr.
class CosineWithWarmup final : public LRScheduler {
 public:
  CosineWithWarmup(double base_lr, int64_t warmup_steps, int64_t total_steps, double min_lr = 0.0);
  double lr_at(int64_t step) const override;

 private:
  double base_lr_, min_lr_;
  int64_t warmup_steps_, total_steps_;
};

// The 1cycle policy (Smith and Topin 2018) as PyTorch's OneCycleLR with anneal_strategy "cos"
// and two phases: from max_lr / div_factor up to max_lr by step pct_start * total_steps - 1, then
// down to max_lr / div_factor / final_div_factor at step total_steps - 1, each phase a cosine
// interpolation. Only the learning rate cycles (PyTorch's cycle_momentum=False). Steps past
// total_steps - 1 keep the final rate (PyTorch raises there).
class OneCycle final : public LRScheduler {
 public:
  OneCycle(double max_lr, int64_t total_steps, double pct_start = 0.3, double div_factor = 25.0,
           double final_div_factor = 1e4);
  double lr_at(int64_t step) const override;

 private:
  double max_lr_, initial_lr_, min_lr_, warm_end_;
  int64_t total_steps_;
};

// Sets the optimiser's learning rate for its next step from the schedule and returns it. Call it
// before each opt.step().
double apply_schedule(Optimizer& opt, const LRScheduler& schedule);

}  // namespace dendrite::optim
