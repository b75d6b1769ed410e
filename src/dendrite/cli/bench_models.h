// The two networks of BENCHMARKS.md that W1 (training), W2 (training) and W5 (batch-1 inference)
// run, built exactly as bench/torch_workloads.py builds them for PyTorch, with their FLOP counts
// (2 per multiply-add) for the roofline figures.
#pragma once

#include "dendrite/nn/sequential.h"

namespace dendrite::cli {

// W1: Flatten, 784-512-512-10 with ReLU between the linear layers. Input [N, 1, 28, 28].
nn::Sequential bench_mlp();
// W2: conv(1->32, 3x3)+ReLU+maxpool2, conv(32->64, 3x3)+ReLU+maxpool2, flatten,
// fc(1600->128)+ReLU, fc(128->10). Input [N, 1, 28, 28].
nn::Sequential bench_cnn();

// FLOPs per example of a forward pass.
double mlp_forward_flops();
double cnn_forward_flops();
// FLOPs per example of a training step: the forward pass, every weight gradient (as much again)
// and every input gradient except the first layer's (the images need none). Optimiser and
// elementwise work are left out: they are not FLOP-bound. W1: ~3.21 MFLOP; W2: ~15.4 MFLOP.
double mlp_training_flops();
double cnn_training_flops();

}  // namespace dendrite::cli
