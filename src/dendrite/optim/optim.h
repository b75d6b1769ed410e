// optim: the optimisers that turn gradients into parameter updates, the learning-rate schedules
// that drive them, and global-norm gradient clipping.
//
//   dd::optim::SGD opt(model.named_parameters(), {.lr = 0.1, .momentum = 0.9, .nesterov = true});
//   dd::optim::CosineWithWarmup schedule(0.1, 500, total_steps);
//   for (auto& [x, y] : loader) {
//     dd::optim::apply_schedule(opt, schedule);
//     opt.zero_grad();
//     loss_fn(model(x), y).backward();
//     dd::optim::clip_grad_norm_(opt.params(), 5.0);
//     opt.step();                 // one fused pass per parameter over (param, grad, state)
//   }
//
// Options structs list their fields in PyTorch's argument order (designated initialisers must
// follow it). Checkpoints save opt.state() (tensors) and opt.state_scalars(); load_state and
// load_state_scalars restore them so that training continues bit-exactly.
#pragma once

#include "dendrite/optim/adagrad.h"
#include "dendrite/optim/adam.h"
#include "dendrite/optim/clip.h"
#include "dendrite/optim/optimizer.h"
#include "dendrite/optim/schedule.h"
#include "dendrite/optim/sgd.h"
