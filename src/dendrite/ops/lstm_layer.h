// A whole LSTM layer (one direction) over a sequence as ONE differentiable op, with
// backpropagation through time written by hand (Werbos 1990; the cell of ops/rnn.h).
//
// Why one op: stepping lstm_cell records about six autograd nodes per step, each step's input
// projection is its own small GEMM, and the weight gradients are summed step by step. Here
//   forward   xg = x W_ih^T + (b_ih + b_hh)                 one GEMM over all T * B rows
//             per step t: hg = h W_hh^T (one GEMM), then the fused pointwise pass on xg[t] + hg
//   backward  per step, in reverse: the pointwise backward and dh = dgates[t] W_hh (one GEMM)
//             then dW_ih = dgates^T x, dW_hh = dgates^T h_prev, dx = dgates W_ih (one GEMM each
//             over all steps) and db = the column sums of dgates
// and the forward keeps only what the backward reads: the gate activations, the previous h and c
// of every step.
//
// Layout: TIME-MAJOR. x [T, B, I] (a batch-first tensor is x.transpose(0, 1), copied once), state
// h0, c0 [B, H], w_ih [4H, I], w_hh [4H, H], b_ih, b_hh [4H] or undefined; gates in PyTorch's order
// i, f, g, o. Returns y [T, B, H] and the final state h, c [B, H]; y, h and c are views of one
// result and any of them may go unused (its gradient is then zero).
//
// lengths: empty (every sequence is T long) or one per sequence in [0, T]. At steps at or past a
// sequence's end its state is kept and its output is zero, so h and c are the state after its
// last element. With reverse the steps run from T - 1 down to 0, so the reverse direction starts
// at each sequence's own last element (from h0, c0). These are nn::LSTM's semantics.
//
// f32 and f64. The GEMMs go through the kernel registry (oneDNN on the cpu backend).
#pragma once

#include <cstdint>
#include <vector>

#include "dendrite/ops/rnn.h"
#include "dendrite/ops/tensor.h"

namespace dendrite {

struct LstmLayerOutput {
  Tensor y;  // [T, B, H]; zero where t >= the row's length
  Tensor h;  // [B, H]: the state after each row's last element
  Tensor c;  // [B, H]
};

LstmLayerOutput lstm_layer(const Tensor& x, const LstmState& state, const Tensor& w_ih, const Tensor& w_hh,
                           const Tensor& b_ih = {}, const Tensor& b_hh = {}, const std::vector<int64_t>& lengths = {},
                           bool reverse = false);

}  // namespace dendrite
