// Gradient clipping by global norm (Pascanu, Mikolov and Bengio 2013), as PyTorch's
// torch.nn.utils.clip_grad_norm_ with norm_type 2: the L2 norm of all gradients together is
// computed, and when it exceeds max_norm every gradient is scaled in place by
// max_norm / (norm + 1e-6).
//
// The norm is accumulated in double over fixed blocks, so it is the same bits for any thread
// count. Parameters without a gradient are skipped. A non-finite norm (an inf or NaN gradient)
// leaves the gradients untouched and is returned, so the caller can skip the step.
#pragma once

#include <vector>

#include "dendrite/nn/module.h"

namespace dendrite::optim {

// Returns the global L2 norm of the gradients before clipping.
double clip_grad_norm_(const nn::NamedTensors& params, double max_norm);
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm);

// The global L2 norm of the parameters' gradients, without changing them.
double grad_norm(const std::vector<Tensor>& params);

}  // namespace dendrite::optim
