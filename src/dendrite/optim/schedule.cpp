// Learning-rate schedules; the formulas and where they come from are in schedule.h.
#include "dendrite/optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "dendrite/core/error.h"

namespace dendrite::optim {

namespace {

void check_step(const char* kind, int64_t step) {
  DENDRITE_CHECK(step >= 0, "{}: step must be non-negative, got {}", kind, step);
}

void check_lr(const char* kind, const char* what, double lr) {
  DENDRITE_CHECK(lr >= 0.0 && std::isfinite(lr), "{}: {} must be a non-negative number, got {}", kind, what, lr);
}

// PyTorch's OneCycleLR._annealing_cos: from `start` at pct 0 to `end` at pct 1.
double annealing_cos(double start, double end, double pct) {
  return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1.0);
}

}  // namespace

StepLR::StepLR(double base_lr, int64_t step_size, double gamma)
    : base_lr_(base_lr), gamma_(gamma), step_size_(step_size) {
  check_lr("StepLR", "base_lr", base_lr);
  DENDRITE_CHECK(step_size > 0, "StepLR: step_size must be positive, got {}", step_size);
  DENDRITE_CHECK(gamma >= 0.0 && std::isfinite(gamma), "StepLR: gamma must be non-negative, got {}", gamma);
}

double StepLR::lr_at(int64_t step) const {
  check_step("StepLR", step);
  return base_lr_ * std::pow(gamma_, static_cast<double>(step / step_size_));
}

CosineWithWarmup::CosineWithWarmup(double base_lr, int64_t warmup_steps, int64_t total_steps, double min_lr)
    : base_lr_(base_lr), min_lr_(min_lr), warmup_steps_(warmup_steps), total_steps_(total_steps) {
  check_lr("CosineWithWarmup", "base_lr", base_lr);
  check_lr("CosineWithWarmup", "min_lr", min_lr);
  DENDRITE_CHECK(min_lr <= base_lr, "CosineWithWarmup: min_lr {} exceeds base_lr {}", min_lr, base_lr);
  DENDRITE_CHECK(total_steps > 0, "CosineWithWarmup: total_steps must be positive, got {}", total_steps);
  DENDRITE_CHECK(warmup_steps >= 0 && warmup_steps <= total_steps,
                 "CosineWithWarmup: warmup_steps must be in [0, total_steps = {}], got {}", total_steps, warmup_steps);
}

double CosineWithWarmup::lr_at(int64_t step) const {
  check_step("CosineWithWarmup", step);
  if (step < warmup_steps_) return base_lr_ * static_cast<double>(step) / static_cast<double>(warmup_steps_);
  if (step >= total_steps_) return min_lr_;
  const double progress = static_cast<double>(step - warmup_steps_) / static_cast<double>(total_steps_ - warmup_steps_);
  return min_lr_ + (base_lr_ - min_lr_) * (1.0 + std::cos(std::numbers::pi * progress)) / 2.0;
}

OneCycle::OneCycle(double max_lr, int64_t total_steps, double pct_start, double div_factor, double final_div_factor)
    : max_lr_(max_lr), total_steps_(total_steps) {
  check_lr("OneCycle", "max_lr", max_lr);
  DENDRITE_CHECK(total_steps > 0, "OneCycle: total_steps must be positive, got {}", total_steps);
  DENDRITE_CHECK(pct_start >= 0.0 && pct_start <= 1.0, "OneCycle: pct_start must be in [0, 1], got {}", pct_start);
  DENDRITE_CHECK(div_factor > 0.0 && std::isfinite(div_factor), "OneCycle: div_factor must be positive, got {}",
                 div_factor);
  DENDRITE_CHECK(final_div_factor > 0.0 && std::isfinite(final_div_factor),
                 "OneCycle: final_div_factor must be positive, got {}", final_div_factor);
  initial_lr_ = max_lr / div_factor;
  min_lr_ = initial_lr_ / final_div_factor;
  warm_end_ = pct_start * static_cast<double>(total_steps) - 1.0;
}

double OneCycle::lr_at(int64_t step) const {
  check_step("OneCycle", step);
  const double last = static_cast<double>(total_steps_ - 1);
  const double s = std::min(static_cast<double>(step), last);
  // A phase of zero length (PyTorch divides by zero there) is taken as already finished.
  auto pct = [](double at, double begin, double end) { return end > begin ? (at - begin) / (end - begin) : 1.0; };
  if (s <= warm_end_) return annealing_cos(initial_lr_, max_lr_, pct(s, 0.0, warm_end_));
  return annealing_cos(max_lr_, min_lr_, pct(s, warm_end_, last));
}

double apply_schedule(Optimizer& opt, const LRScheduler& schedule) {
  const double lr = schedule.lr_at(opt.step_count());
  opt.set_lr(lr);
  return lr;
}

}  // namespace dendrite::optim
