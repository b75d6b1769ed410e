// Recurrent layers: LSTM and GRU over whole sequences (multi-layer, bidirectional, dropout between
// layers, time- or batch-major), and their cells for step-by-step use (decoders).
//
//   nn::LSTM enc(64, 128, {.num_layers = 2, .bidirectional = true, .batch_first = true});
//   nn::RnnOutput r = enc.run(x, lengths);   // x [B, T, 64] -> r.output [B, T, 256],
//                                            // r.h_n, r.c_n [num_layers * 2, B, 128]
//
// Variable-length batches: `lengths` gives each sequence's true length (<= T). Steps at or after a
// sequence's end leave its state unchanged and give zero outputs, and the reverse direction starts
// at each sequence's own last element, so a sequence's results do not depend on how much padding
// it was batched with (tests/nn/rnn_test.cpp checks it).
//
// The LSTM runs each layer and direction as one op with hand-written backpropagation through time
// (ops/lstm_layer.h: one GEMM for every step's input projection, one per step for the recurrence,
// one autograd node); the GRU steps gru_pointwise.
//
// Parameters follow PyTorch's names and layout (weight_ih_l0 [G * H, I], weight_hh_l0, bias_ih_l0,
// bias_hh_l0, "_reverse" for the backward direction; G = 4 for LSTM, 3 for GRU) and initialisation
// U(-1/sqrt(H), 1/sqrt(H)), so PyTorch weights load unchanged.
#pragma once

#include <cstdint>
#include <vector>

#include "dendrite/core/random.h"
#include "dendrite/nn/module.h"
#include "dendrite/ops/rnn.h"

namespace dendrite::nn {

struct RnnOptions {
  int64_t num_layers = 1;
  bool bidirectional = false;
  double dropout = 0.0;  // on each layer's output except the last, in training
  bool batch_first = false;
  bool bias = true;
};

struct RnnOutput {
  Tensor output;  // [T, B, D * H] ([B, T, D * H] with batch_first), D = 2 when bidirectional
  Tensor h_n;     // [num_layers * D, B, H]: the state after each sequence's last element
  Tensor c_n;     // LSTM only, like h_n
};

enum class RnnMode { lstm, gru };

class RNNBase : public Module {
 public:
  // x as the options say; lengths empty (every sequence is T long) or one per sequence in [1, T].
  // h0 (and c0 for LSTM) [num_layers * D, B, H] or undefined for zeros.
  RnnOutput run(const Tensor& x, const std::vector<int64_t>& lengths = {}, const Tensor& h0 = {},
                const Tensor& c0 = {});
  Tensor forward(const Tensor& x) override { return run(x).output; }
  std::string name() const override;

  int64_t input_size() const { return input_; }
  int64_t hidden_size() const { return hidden_; }
  const RnnOptions& options() const { return options_; }
  int64_t directions() const { return options_.bidirectional ? 2 : 1; }
  // Draws every weight and bias from U(-1/sqrt(H), 1/sqrt(H)).
  void reset_parameters(Generator& gen = default_generator());

 protected:
  RNNBase(RnnMode mode, int64_t input_size, int64_t hidden_size, RnnOptions options, Generator& gen);

 private:
  struct Weights {
    Tensor w_ih, w_hh, b_ih, b_hh;
  };
  struct DirectionResult {
    Tensor output;  // [T, B, H]
    Tensor h, c;    // [B, H]
  };
  // One layer in one direction: the LSTM through lstm_layer (ops/lstm_layer.h), the GRU step by
  // step with keep/drop masks for the ended sequences.
  DirectionResult run_direction(const Tensor& x, const Weights& w, bool reverse, const std::vector<int64_t>& lengths,
                                const std::vector<Tensor>& keep, const std::vector<Tensor>& drop, Tensor h,
                                Tensor c) const;

  RnnMode mode_;
  int64_t input_;
  int64_t hidden_;
  RnnOptions options_;
  Generator* gen_;
  std::vector<Weights> weights_;  // layer-major, then direction
};

class LSTM : public RNNBase {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, RnnOptions options = {}, Generator& gen = default_generator())
      : RNNBase(RnnMode::lstm, input_size, hidden_size, options, gen) {}
};

class GRU : public RNNBase {
 public:
  GRU(int64_t input_size, int64_t hidden_size, RnnOptions options = {}, Generator& gen = default_generator())
      : RNNBase(RnnMode::gru, input_size, hidden_size, options, gen) {}
};

// One LSTM step, for decoders that feed each output back in. Parameters as in LSTM (weight_ih,
// weight_hh, bias_ih, bias_hh).
class LSTMCell : public Module {
 public:
  LSTMCell(int64_t input_size, int64_t hidden_size, bool bias = true);
  void reset_parameters(Generator& gen = default_generator());
  // x [B, I], state [B, H] each -> the next state.
  LstmState step(const Tensor& x, const LstmState& state);
  LstmState zero_state(int64_t batch) const;
  // From a zero state; returns h.
  Tensor forward(const Tensor& x) override { return step(x, zero_state(x.size(0))).h; }
  std::string name() const override;
  int64_t hidden_size() const { return hidden_; }

  Tensor weight_ih, weight_hh, bias_ih, bias_hh;

 private:
  int64_t input_, hidden_;
};

class GRUCell : public Module {
 public:
  GRUCell(int64_t input_size, int64_t hidden_size, bool bias = true);
  void reset_parameters(Generator& gen = default_generator());
  Tensor step(const Tensor& x, const Tensor& h);
  Tensor forward(const Tensor& x) override;
  std::string name() const override;
  int64_t hidden_size() const { return hidden_; }

  Tensor weight_ih, weight_hh, bias_ih, bias_hh;

 private:
  int64_t input_, hidden_;
};

}  // namespace dendrite::nn
