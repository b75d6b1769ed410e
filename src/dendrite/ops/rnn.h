// Recurrent cells. Each cell is one or two GEMMs for the gate pre-activations followed by one fused
// elementwise pass (lstm_pointwise / gru_pointwise) whose backward is written by hand beside its
// forward, so a time step records a handful of autograd nodes instead of a dozen.
//
//   LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000), gates in
//   PyTorch's order i, f, g, o:
//     gates = x W_ih^T + b_ih + h W_hh^T + b_hh            [B, 4H]
//     c' = sigmoid(f) * c + sigmoid(i) * tanh(g),   h' = sigmoid(o) * tanh(c')
//   GRU (Cho et al. 2014, PyTorch's variant: the reset gate scales h W_hn^T + b_hn), gates r, z, n:
//     gx = x W_ih^T + b_ih,  gh = h W_hh^T + b_hh          [B, 3H] each
//     r = sigmoid(gx_r + gh_r), z = sigmoid(gx_z + gh_z), n = tanh(gx_n + r * gh_n)
//     h' = (1 - z) * n + z * h
//
// A sequence layer (nn/rnn.h) calls linear() for the two projections and the pointwise op step by
// step. Only f32 and f64 are supported.
#pragma once

#include "dendrite/ops/tensor.h"

namespace dendrite {

struct LstmState {
  Tensor h;  // [B, H]
  Tensor c;  // [B, H]
};

// gates [B, 4H] (pre-activations, order i, f, g, o), c [B, H] -> {h', c'}. h' and c' are views of
// one [B, 2H] result.
LstmState lstm_pointwise(const Tensor& gates, const Tensor& c);

// One LSTM step: x [B, I], state {h, c} [B, H], w_ih [4H, I], w_hh [4H, H], biases [4H] or
// undefined.
LstmState lstm_cell(const Tensor& x, const LstmState& state, const Tensor& w_ih, const Tensor& w_hh,
                    const Tensor& b_ih = {}, const Tensor& b_hh = {});

// gx, gh [B, 3H] (order r, z, n), h [B, H] -> h'.
Tensor gru_pointwise(const Tensor& gx, const Tensor& gh, const Tensor& h);

// One GRU step: x [B, I], h [B, H], w_ih [3H, I], w_hh [3H, H], biases [3H] or undefined.
Tensor gru_cell(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih = {},
                const Tensor& b_hh = {});

}  // namespace dendrite
