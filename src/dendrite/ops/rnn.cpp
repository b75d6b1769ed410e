// Recurrent cells: the GEMMs go through linear(); the gate nonlinearities and the state update are
// one fused kernel forward and one backward: lstm_forward / lstm_backward (kernels/ops.h, shared
// with ops/lstm_layer.cpp) and gru_forward / gru_backward. The conformance tests check both cells
// against the same cells composed from primitive ops (tests/ops/rnn_test.cpp).
#include "dendrite/ops/rnn.h"

#include "dendrite/kernels/registry.h"
#include "dendrite/ops/checks.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/elementwise.h"
#include "dendrite/ops/linalg.h"

namespace dendrite {
namespace {

using Grads = std::vector<TensorBase>;
using kernels::dispatch;
using kernels::OpId;

// A contiguous, history-free handle on the same values (a copy only when x is strided).
Tensor dense(const TensorBase& x) { return Tensor(x.alias()).contiguous(); }

void check_float(const char* op, const Tensor& t, const char* what) {
  DENDRITE_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::f64, "{}: {} must be f32 or f64, got {}", op, what,
                 describe(t));
}

void check_state(const char* op, const Tensor& t, const char* what, int64_t batch, int64_t hidden, DType dtype) {
  DENDRITE_CHECK(t.defined(), "{}: {} is undefined", op, what);
  DENDRITE_CHECK(t.dim() == 2 && t.size(0) == batch && t.size(1) == hidden, "{}: {} must be [{}, {}], got {}", op, what,
                 batch, hidden, to_string(t.shape()));
  DENDRITE_CHECK(t.dtype() == dtype, "{}: {} is {}, the gates are {}", op, what, describe(t), name(dtype));
}

// Columns [from, from + width) of a [rows, cols] matrix, as a history-free view.
TensorBase columns(const TensorBase& m, int64_t from, int64_t width) {
  return m.as_strided({m.size(0), width}, m.strides(), m.offset() + from * m.stride(1));
}

void check_weights(const char* op, const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh,
                   const Tensor& b_ih, const Tensor& b_hh, int64_t gates) {
  DENDRITE_CHECK(x.dim() == 2, "{}: input must be [batch, features], got {}", op, to_string(x.shape()));
  DENDRITE_CHECK(h.dim() == 2 && h.size(0) == x.size(0), "{}: state {} does not match input {}", op,
                 to_string(h.shape()), to_string(x.shape()));
  const int64_t hidden = h.size(1);
  DENDRITE_CHECK(w_ih.dim() == 2 && w_ih.size(0) == gates * hidden && w_ih.size(1) == x.size(1),
                 "{}: w_ih must be [{}, {}] for input {} and state {}, got {}", op, gates * hidden, x.size(1),
                 to_string(x.shape()), to_string(h.shape()), to_string(w_ih.shape()));
  DENDRITE_CHECK(w_hh.dim() == 2 && w_hh.size(0) == gates * hidden && w_hh.size(1) == hidden,
                 "{}: w_hh must be [{}, {}] for state {}, got {}", op, gates * hidden, hidden, to_string(h.shape()),
                 to_string(w_hh.shape()));
  for (const Tensor* b : {&b_ih, &b_hh}) {
    if (!b->defined()) continue;
    DENDRITE_CHECK(b->dim() == 1 && b->size(0) == gates * hidden, "{}: biases must be [{}], got {}", op, gates * hidden,
                   to_string(b->shape()));
  }
}

}  // namespace

LstmState lstm_pointwise(const Tensor& gates, const Tensor& c) {
  const char* op = "lstm_pointwise";
  DENDRITE_CHECK(gates.defined() && gates.dim() == 2 && gates.size(1) % 4 == 0,
                 "lstm_pointwise: gates must be [batch, 4 * hidden], got {}",
                 gates.defined() ? to_string(gates.shape()) : std::string("undefined"));
  check_float(op, gates, "gates");
  check_same_device(op, {&gates, &c});
  const int64_t batch = gates.size(0), hidden = gates.size(1) / 4;
  check_state(op, c, "c", batch, hidden, gates.dtype());

  // One step (t = 0) of the kernels' sequence form; h' and c' are the two halves of out's rows.
  const Tensor a = dense(gates), cc = dense(c);
  Tensor out = empty({batch, 2 * hidden}, gates.dtype());
  const bool record = autograd::should_record({&gates, &c});
  const Tensor acts = record ? empty({batch, 5 * hidden}, gates.dtype()) : Tensor();
  dispatch<OpId::lstm_forward>(gates.dtype())(a, {}, cc, 0, {}, columns(out, 0, hidden), columns(out, hidden, hidden),
                                              {}, acts, {}, {});
  if (record) {
    autograd::record(op, out, {gates, c}, [acts, cc, batch, hidden](const TensorBase& g) -> Grads {
      const Tensor grad = dense(g);
      Tensor dgates = empty({batch, 4 * hidden}, acts.dtype()), dc = empty({batch, hidden}, acts.dtype());
      dispatch<OpId::lstm_backward>(acts.dtype())(acts, cc, columns(grad, 0, hidden), {}, columns(grad, hidden, hidden),
                                                  0, {}, dgates, dc);
      return {dgates, dc};
    });
  }
  return {out.narrow(1, 0, hidden), out.narrow(1, hidden, hidden)};
}

LstmState lstm_cell(const Tensor& x, const LstmState& state, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                    const Tensor& b_hh) {
  DENDRITE_CHECK(x.defined() && state.h.defined() && state.c.defined() && w_ih.defined() && w_hh.defined(),
                 "lstm_cell: input, state and weights must be defined");
  check_weights("lstm_cell", x, state.h, w_ih, w_hh, b_ih, b_hh, 4);
  return lstm_pointwise(linear(x, w_ih, b_ih) + linear(state.h, w_hh, b_hh), state.c);
}

Tensor gru_pointwise(const Tensor& gx, const Tensor& gh, const Tensor& h) {
  const char* op = "gru_pointwise";
  DENDRITE_CHECK(gx.defined() && gx.dim() == 2 && gx.size(1) % 3 == 0,
                 "gru_pointwise: gx must be [batch, 3 * hidden], got {}",
                 gx.defined() ? to_string(gx.shape()) : std::string("undefined"));
  check_float(op, gx, "gx");
  check_same_device(op, {&gx, &gh, &h});
  const int64_t batch = gx.size(0), hidden = gx.size(1) / 3;
  check_state(op, gh, "gh", batch, 3 * hidden, gx.dtype());
  check_state(op, h, "h", batch, hidden, gx.dtype());

  const Tensor x = dense(gx), s = dense(gh), hh = dense(h);
  Tensor out = empty({batch, hidden}, gx.dtype());
  dispatch<OpId::gru_forward>(gx.dtype())(x, s, hh, out);
  if (autograd::should_record({&gx, &gh, &h})) {
    autograd::record(op, out, {gx, gh, h}, [x, s, hh, batch, hidden](const TensorBase& g) -> Grads {
      const Tensor grad = dense(g);
      Tensor dgx = empty({batch, 3 * hidden}, x.dtype()), dgh = empty({batch, 3 * hidden}, x.dtype());
      Tensor dh = empty({batch, hidden}, x.dtype());
      dispatch<OpId::gru_backward>(x.dtype())(x, s, hh, grad, dgx, dgh, dh);
      return {dgx, dgh, dh};
    });
  }
  return out;
}

Tensor gru_cell(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                const Tensor& b_hh) {
  DENDRITE_CHECK(x.defined() && h.defined() && w_ih.defined() && w_hh.defined(),
                 "gru_cell: input, state and weights must be defined");
  check_weights("gru_cell", x, h, w_ih, w_hh, b_ih, b_hh, 3);
  return gru_pointwise(linear(x, w_ih, b_ih), linear(h, w_hh, b_hh), h);
}

}  // namespace dendrite
