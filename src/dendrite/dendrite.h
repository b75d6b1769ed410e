// Dendrite: define a neural network, train it fast, scale it out, deploy it.
//
//   #include <dendrite/dendrite.h>
//   namespace dd = dendrite;
//   auto x = dd::randn({64, 784});
//   auto w = dd::randn({784, 10}).requires_grad_();
//   auto loss = dd::cross_entropy(x.matmul(w), labels);
//   loss.backward();               // w.grad() now holds d loss / d w
//
// Layers (each its own library, lower layers never include upper ones):
//   core      Tensor storage and views, dtypes, errors, random numbers, threads
//   kernels   the (op, backend, dtype) registry: reference, cpu (oneDNN + OpenMP loops)
//   autograd  the eager tape and backward engine
//   ops       the differentiable functions below, forward and backward side by side
//   nn        Module, layers, initialisation, losses
//   optim     optimisers, learning-rate schedules, gradient clipping
//   data      datasets, the DataLoader, transforms, IDX and PNG readers
//   dist      Communicator (MPI), synchronous data parallel, sharded parameter server
//   train     the Trainer, safetensors checkpoints, metrics, progress, curves
#pragma once

#include "dendrite/core/error.h"
#include "dendrite/core/print.h"
#include "dendrite/core/random.h"
#include "dendrite/core/threading.h"
#include "dendrite/data/data.h"
#include "dendrite/dist/dist.h"
#include "dendrite/nn/nn.h"
#include "dendrite/ops/ops.h"
#include "dendrite/optim/optim.h"
#include "dendrite/train/train.h"
