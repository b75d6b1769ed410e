#include "dendrite/nn/rnn.h"

#include <algorithm>
#include <cmath>

#include "dendrite/nn/init.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/dropout.h"
#include "dendrite/ops/elementwise.h"
#include "dendrite/ops/join.h"
#include "dendrite/ops/linalg.h"
#include "dendrite/ops/lstm_layer.h"

namespace dendrite::nn {
namespace {

int64_t gate_count(RnnMode mode) { return mode == RnnMode::lstm ? 4 : 3; }
const char* mode_name(RnnMode mode) { return mode == RnnMode::lstm ? "LSTM" : "GRU"; }

void init_uniform(std::initializer_list<const Tensor*> tensors, int64_t hidden, Generator& gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden));
  for (const Tensor* t : tensors)
    if (t->defined()) init::uniform_(*t, -bound, bound, gen);
}

}  // namespace

RNNBase::RNNBase(RnnMode mode, int64_t input_size, int64_t hidden_size, RnnOptions options, Generator& gen)
    : mode_(mode), input_(input_size), hidden_(hidden_size), options_(options), gen_(&gen) {
  const char* kind = mode_name(mode);
  DENDRITE_CHECK(input_size > 0, "{}: input_size must be positive, got {}", kind, input_size);
  DENDRITE_CHECK(hidden_size > 0, "{}: hidden_size must be positive, got {}", kind, hidden_size);
  DENDRITE_CHECK(options.num_layers >= 1, "{}: num_layers must be at least 1, got {}", kind, options.num_layers);
  DENDRITE_CHECK(options.dropout >= 0 && options.dropout < 1, "{}: dropout must be in [0, 1), got {}", kind,
                 options.dropout);
  const int64_t g = gate_count(mode) * hidden_size;
  for (int64_t layer = 0; layer < options.num_layers; ++layer) {
    const int64_t in = layer == 0 ? input_size : hidden_size * directions();
    for (int64_t dir = 0; dir < directions(); ++dir) {
      const std::string suffix = fmt::format("_l{}{}", layer, dir == 1 ? "_reverse" : "");
      Weights w;
      w.w_ih = register_parameter("weight_ih" + suffix, empty({g, in}));
      w.w_hh = register_parameter("weight_hh" + suffix, empty({g, hidden_size}));
      if (options.bias) {
        w.b_ih = register_parameter("bias_ih" + suffix, empty({g}));
        w.b_hh = register_parameter("bias_hh" + suffix, empty({g}));
      }
      weights_.push_back(w);
    }
  }
  reset_parameters();
}

void RNNBase::reset_parameters(Generator& gen) {
  for (const Weights& w : weights_) init_uniform({&w.w_ih, &w.w_hh, &w.b_ih, &w.b_hh}, hidden_, gen);
}

std::string RNNBase::name() const {
  return fmt::format("{}({} -> {}, layers={}{}{}{})", mode_name(mode_), input_, hidden_, options_.num_layers,
                     options_.bidirectional ? ", bidirectional" : "",
                     options_.dropout > 0 ? fmt::format(", dropout={}", options_.dropout) : std::string(),
                     options_.batch_first ? ", batch_first" : "");
}

RNNBase::DirectionResult RNNBase::run_direction(const Tensor& x, const Weights& w, bool reverse,
                                                const std::vector<int64_t>& lengths, const std::vector<Tensor>& keep,
                                                const std::vector<Tensor>& drop, Tensor h, Tensor c) const {
  if (mode_ == RnnMode::lstm) {
    // The whole direction is one op with hand-written backpropagation through time: one GEMM for
    // every step's input projection, one per step for the recurrence, one autograd node. With
    // lengths too since 2026-12-05: on G2P's variable-length encoder it had measured ~20% slower
    // than the step-by-step loop below, in one-epoch runs whose every batch brought a new T (new
    // primitives to create); over two epochs, with the recurrence's threads sharing rows, it is
    // level or faster (docs/sequence.md, "Speed notes").
    LstmLayerOutput r = lstm_layer(x, {h, c}, w.w_ih, w.w_hh, w.b_ih, w.b_hh, lengths, reverse);
    return {r.y, r.h, r.c};
  }
  const int64_t steps = x.size(0);
  std::vector<Tensor> outs(static_cast<size_t>(steps));
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = reverse ? steps - 1 - s : s;
    // The input projection step by step rather than for all steps in one GEMM: the gradient of a
    // slice of a [T, B, G * H] projection would be a zero-filled tensor of that whole size per step
    // (views scatter into zeros), O(T^2) memory traffic that costs more than the smaller GEMMs.
    const Tensor xt = linear(x.select(0, t), w.w_ih, w.b_ih);
    Tensor h_new, c_new;
    if (mode_ == RnnMode::lstm) {
      LstmState next = lstm_pointwise(xt + linear(h, w.w_hh, w.b_hh), c);
      h_new = next.h;
      c_new = next.c;
    } else {
      h_new = gru_pointwise(xt, linear(h, w.w_hh, w.b_hh), h);
    }
    const auto ti = static_cast<size_t>(t);
    if (keep[ti].defined()) {
      // Sequences that have ended keep their state and output zeros: keep is 1 or 0 per row, so the
      // products are exact and a row's values are those it would have alone.
      Tensor out = h_new * keep[ti];
      h = out + h * drop[ti];
      if (c_new.defined()) c = c_new * keep[ti] + c * drop[ti];
      outs[ti] = out;
    } else {
      h = h_new;
      c = c_new;
      outs[ti] = h_new;
    }
  }
  return {stack(outs, 0), h, c};
}

RnnOutput RNNBase::run(const Tensor& input, const std::vector<int64_t>& lengths, const Tensor& h0, const Tensor& c0) {
  const std::string me = name();
  DENDRITE_CHECK(input.dim() == 3, "{}: input must be [{}], got {}", me,
                 options_.batch_first ? "batch, time, features" : "time, batch, features",
                 dendrite::to_string(input.shape()));
  DENDRITE_CHECK(input.size(2) == input_, "{}: input {} has {} features, expected {}", me,
                 dendrite::to_string(input.shape()), input.size(2), input_);
  DENDRITE_CHECK(input.dtype() == weights_[0].w_ih.dtype(), "{}: input is {} but the weights are {}", me,
                 describe(input), describe(weights_[0].w_ih));
  const Tensor x = options_.batch_first ? input.transpose(0, 1) : input;
  const int64_t steps = x.size(0), batch = x.size(1), layers = options_.num_layers, dirs = directions();
  DENDRITE_CHECK(lengths.empty() || static_cast<int64_t>(lengths.size()) == batch,
                 "{}: {} lengths given for a batch of {}", me, lengths.size(), batch);
  for (size_t b = 0; b < lengths.size(); ++b) {
    DENDRITE_CHECK(lengths[b] >= 0 && lengths[b] <= steps, "{}: length {} of sequence {} is outside [0, {}]", me,
                   lengths[b], b, steps);
  }
  const Shape state_shape{layers * dirs, batch, hidden_};
  for (const Tensor* s : {&h0, &c0}) {
    if (!s->defined()) continue;
    DENDRITE_CHECK(s->shape() == state_shape, "{}: initial state must be {}, got {}", me,
                   dendrite::to_string(state_shape), dendrite::to_string(s->shape()));
  }
  DENDRITE_CHECK(mode_ == RnnMode::lstm || !c0.defined(), "{}: a GRU has no cell state c0", me);

  // Per-step masks for the step-by-step path, only for steps where some sequence has already ended.
  std::vector<Tensor> keep(static_cast<size_t>(steps)), drop(static_cast<size_t>(steps));
  const int64_t shortest = lengths.empty() ? steps : *std::min_element(lengths.begin(), lengths.end());
  for (int64_t t = shortest; t < steps; ++t) {
    std::vector<double> k(static_cast<size_t>(batch));
    for (size_t b = 0; b < k.size(); ++b) k[b] = t < lengths[b] ? 1.0 : 0.0;
    keep[static_cast<size_t>(t)] = tensor<double>(k, {batch, 1}).to(x.dtype());
    drop[static_cast<size_t>(t)] = 1.0 - keep[static_cast<size_t>(t)];
  }

  Tensor layer_input = x;
  std::vector<Tensor> hs, cs;
  Tensor output;
  for (int64_t layer = 0; layer < layers; ++layer) {
    std::vector<Tensor> outs;
    for (int64_t dir = 0; dir < dirs; ++dir) {
      const int64_t k = layer * dirs + dir;
      Tensor h = h0.defined() ? h0.select(0, k) : zeros({batch, hidden_}, x.dtype());
      Tensor c;
      if (mode_ == RnnMode::lstm) c = c0.defined() ? c0.select(0, k) : zeros({batch, hidden_}, x.dtype());
      DirectionResult r =
          run_direction(layer_input, weights_[static_cast<size_t>(k)], dir == 1, lengths, keep, drop, h, c);
      outs.push_back(r.output);
      hs.push_back(r.h);
      if (r.c.defined()) cs.push_back(r.c);
    }
    output = dirs == 1 ? outs[0] : concat(outs, 2);
    layer_input = output;
    if (layer + 1 < layers && options_.dropout > 0)
      layer_input = dropout(output, options_.dropout, is_training(), *gen_);
  }
  RnnOutput result{options_.batch_first ? output.transpose(0, 1) : output, stack(hs, 0), {}};
  if (!cs.empty()) result.c_n = stack(cs, 0);
  return result;
}

// --- cells ------------------------------------------------------------------------------------

LSTMCell::LSTMCell(int64_t input_size, int64_t hidden_size, bool bias) : input_(input_size), hidden_(hidden_size) {
  DENDRITE_CHECK(input_size > 0 && hidden_size > 0, "LSTMCell: sizes must be positive, got {} -> {}", input_size,
                 hidden_size);
  weight_ih = register_parameter("weight_ih", empty({4 * hidden_, input_}));
  weight_hh = register_parameter("weight_hh", empty({4 * hidden_, hidden_}));
  if (bias) {
    bias_ih = register_parameter("bias_ih", empty({4 * hidden_}));
    bias_hh = register_parameter("bias_hh", empty({4 * hidden_}));
  }
  reset_parameters();
}

void LSTMCell::reset_parameters(Generator& gen) {
  init_uniform({&weight_ih, &weight_hh, &bias_ih, &bias_hh}, hidden_, gen);
}

LstmState LSTMCell::step(const Tensor& x, const LstmState& state) {
  try {
    return lstm_cell(x, state, weight_ih, weight_hh, bias_ih, bias_hh);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", name(), e.what()));
  }
}

LstmState LSTMCell::zero_state(int64_t batch) const {
  return {zeros({batch, hidden_}, weight_ih.dtype()), zeros({batch, hidden_}, weight_ih.dtype())};
}

std::string LSTMCell::name() const { return fmt::format("LSTMCell({} -> {})", input_, hidden_); }

GRUCell::GRUCell(int64_t input_size, int64_t hidden_size, bool bias) : input_(input_size), hidden_(hidden_size) {
  DENDRITE_CHECK(input_size > 0 && hidden_size > 0, "GRUCell: sizes must be positive, got {} -> {}", input_size,
                 hidden_size);
  weight_ih = register_parameter("weight_ih", empty({3 * hidden_, input_}));
  weight_hh = register_parameter("weight_hh", empty({3 * hidden_, hidden_}));
  if (bias) {
    bias_ih = register_parameter("bias_ih", empty({3 * hidden_}));
    bias_hh = register_parameter("bias_hh", empty({3 * hidden_}));
  }
  reset_parameters();
}

void GRUCell::reset_parameters(Generator& gen) {
  init_uniform({&weight_ih, &weight_hh, &bias_ih, &bias_hh}, hidden_, gen);
}

Tensor GRUCell::step(const Tensor& x, const Tensor& h) {
  try {
    return gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", name(), e.what()));
  }
}

Tensor GRUCell::forward(const Tensor& x) { return step(x, zeros({x.size(0), hidden_}, weight_ih.dtype())); }

std::string GRUCell::name() const { return fmt::format("GRUCell({} -> {})", input_, hidden_); }

}  // namespace dendrite::nn
