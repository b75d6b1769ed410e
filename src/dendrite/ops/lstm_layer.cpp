// The whole-layer LSTM op: forward and the hand-written backpropagation through time side by side.
// The time loops are the lstm_recurrence kernels (a product and an lstm_forward / lstm_backward
// step each, on history-free views of whole-sequence buffers, so nothing inside records autograd
// nodes: the whole layer is one node); around them, the products over all T * B rows at once.
#include "dendrite/ops/lstm_layer.h"

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "dendrite/kernels/lstm_recurrence_loop.h"
#include "dendrite/kernels/registry.h"
#include "dendrite/ops/checks.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/elementwise.h"
#include "dendrite/ops/reduction.h"

namespace dendrite {
namespace {

using Grads = std::vector<TensorBase>;
using kernels::dispatch;
using kernels::OpId;
using kernels::lstm_recurrence::slab;
using kernels::lstm_recurrence::transposed;

// A contiguous, history-free handle on the same values (a copy only when t is strided).
Tensor dense(const TensorBase& t) { return Tensor(t.alias()).contiguous(); }

// A contiguous [T, rows, width] buffer as one [T * rows, width] matrix.
TensorBase flat(const TensorBase& buf) {
  const int64_t width = buf.size(-1);
  return buf.as_strided({buf.numel() / width, width}, {width, 1}, buf.offset());
}

// out = a @ b (+ bias[N]); out contiguous, a and b any 2-D strides.
void gemm(const TensorBase& a, const TensorBase& b, const TensorBase& bias, const TensorBase& out) {
  dispatch<OpId::matmul>(out.dtype())(a, b, bias, out);
}

struct Dims {
  int64_t steps, batch, input, hidden;
};

void check_same_dtype(const Tensor& t, const char* what, const Tensor& x) {
  if (!t.defined()) return;
  DENDRITE_CHECK(t.dtype() == x.dtype(), "lstm_layer: {} is {}, the input is {}", what, describe(t), describe(x));
}

Dims check_inputs(const Tensor& x, const LstmState& s, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                  const Tensor& b_hh, const std::vector<int64_t>& lengths) {
  DENDRITE_CHECK(x.defined() && s.h.defined() && s.c.defined() && w_ih.defined() && w_hh.defined(),
                 "lstm_layer: input, state and weights must be defined");
  DENDRITE_CHECK(x.dim() == 3, "lstm_layer: input must be [time, batch, features], got {}", to_string(x.shape()));
  DENDRITE_CHECK(x.dtype() == DType::f32 || x.dtype() == DType::f64, "lstm_layer: input must be f32 or f64, got {}",
                 describe(x));
  const Dims d{x.size(0), x.size(1), x.size(2), s.h.dim() == 2 ? s.h.size(1) : 0};
  DENDRITE_CHECK(d.steps > 0 && d.batch > 0, "lstm_layer: input {} has no time steps or no sequences",
                 to_string(x.shape()));
  DENDRITE_CHECK(s.h.dim() == 2 && s.h.size(0) == d.batch && d.hidden > 0,
                 "lstm_layer: h0 must be [{}, hidden] for input {}, got {}", d.batch, to_string(x.shape()),
                 to_string(s.h.shape()));
  DENDRITE_CHECK(s.c.shape() == s.h.shape(), "lstm_layer: c0 must be {} like h0, got {}", to_string(s.h.shape()),
                 to_string(s.c.shape()));
  const int64_t gates = 4 * d.hidden;
  DENDRITE_CHECK(w_ih.dim() == 2 && w_ih.size(0) == gates && w_ih.size(1) == d.input,
                 "lstm_layer: w_ih must be [{}, {}] for input {} and state {}, got {}", gates, d.input,
                 to_string(x.shape()), to_string(s.h.shape()), to_string(w_ih.shape()));
  DENDRITE_CHECK(w_hh.dim() == 2 && w_hh.size(0) == gates && w_hh.size(1) == d.hidden,
                 "lstm_layer: w_hh must be [{}, {}] for state {}, got {}", gates, d.hidden, to_string(s.h.shape()),
                 to_string(w_hh.shape()));
  for (auto [b, what] : {std::pair{&b_ih, "b_ih"}, std::pair{&b_hh, "b_hh"}}) {
    if (!b->defined()) continue;
    DENDRITE_CHECK(b->dim() == 1 && b->size(0) == gates, "lstm_layer: {} must be [{}] for state {}, got {}", what,
                   gates, to_string(s.h.shape()), to_string(b->shape()));
  }
  check_same_dtype(s.h, "h0", x);
  check_same_dtype(s.c, "c0", x);
  check_same_dtype(w_ih, "w_ih", x);
  check_same_dtype(w_hh, "w_hh", x);
  check_same_dtype(b_ih, "b_ih", x);
  check_same_dtype(b_hh, "b_hh", x);
  check_same_device("lstm_layer", {&x, &s.h, &s.c, &w_ih, &w_hh, &b_ih, &b_hh});
  DENDRITE_CHECK(lengths.empty() || static_cast<int64_t>(lengths.size()) == d.batch,
                 "lstm_layer: {} lengths given for a batch of {} (input {})", lengths.size(), d.batch,
                 to_string(x.shape()));
  for (size_t b = 0; b < lengths.size(); ++b) {
    DENDRITE_CHECK(lengths[b] >= 0 && lengths[b] <= d.steps,
                   "lstm_layer: length {} of sequence {} is outside [0, {}] (input {})", lengths[b], b, d.steps,
                   to_string(x.shape()));
  }
  return d;
}

// What the forward keeps for the backward, by time index t (not by processing order).
struct Saved {
  Tensor x;       // [T * B, I], contiguous
  Tensor w_ih;    // [4H, I], contiguous
  Tensor w_hh;    // [4H, H], contiguous
  Tensor h_prev;  // [T, B, H]: h before step t
  Tensor c_prev;  // [T, B, H]
  Tensor acts;    // [T, B, 5H]: i, f, g, o, tanh(c') of step t (rows at or past their end unset)
  std::vector<int64_t> lengths;
  bool reverse = false;
};

void copy(const TensorBase& src, const TensorBase& dst) { dispatch<OpId::copy>(src.dtype())(src, dst); }

}  // namespace

LstmLayerOutput lstm_layer(const Tensor& x, const LstmState& state, const Tensor& w_ih, const Tensor& w_hh,
                           const Tensor& b_ih, const Tensor& b_hh, const std::vector<int64_t>& lengths, bool reverse) {
  const Dims d = check_inputs(x, state, w_ih, w_hh, b_ih, b_hh, lengths);
  const int64_t T = d.steps, B = d.batch, H = d.hidden, G = 4 * H;
  const DType dtype = x.dtype();

  // The input projection of every step, both biases folded in: one GEMM.
  const Tensor xd = dense(x), wih = dense(w_ih), whh = dense(w_hh);
  const TensorBase x2 = flat(xd);
  Tensor bias;
  if (b_ih.defined() && b_hh.defined()) {
    bias = Tensor(b_ih.alias()) + Tensor(b_hh.alias());
  } else if (b_ih.defined() || b_hh.defined()) {
    bias = dense(b_ih.defined() ? b_ih : b_hh);
  }
  const Tensor xg = empty({T, B, G}, dtype);
  gemm(x2, transposed(wih), bias, flat(xg));

  const Tensor out = empty({T + 2, B, H}, dtype);
  const bool record = autograd::should_record({&x, &state.h, &state.c, &w_ih, &w_hh, &b_ih, &b_hh});
  auto saved = record ? std::make_shared<Saved>() : nullptr;
  if (saved) {
    *saved = {Tensor(x2), wih,    whh, empty({T, B, H}, dtype), empty({T, B, H}, dtype), empty({T, B, 5 * H}, dtype),
              lengths,    reverse};
  }
  copy(state.h, slab(out, T));
  copy(state.c, slab(out, T + 1));
  TensorBase acts, h_prev, c_prev;  // undefined: nothing saved
  if (saved) acts = saved->acts, h_prev = saved->h_prev, c_prev = saved->c_prev;
  dispatch<OpId::lstm_recurrence>(dtype)(xg, whh, lengths, reverse, out, acts, h_prev, c_prev);

  if (record) {
    const bool need_x = x.requires_grad(), need_h = state.h.requires_grad(), need_c = state.c.requires_grad();
    const bool need_wih = w_ih.requires_grad(), need_whh = w_hh.requires_grad();
    const bool need_bih = b_ih.defined() && b_ih.requires_grad(), need_bhh = b_hh.defined() && b_hh.requires_grad();
    autograd::record(
        "lstm_layer", out, {x, state.h, state.c, w_ih, w_hh, b_ih, b_hh},
        [saved, d, need_x, need_h, need_c, need_wih, need_whh, need_bih, need_bhh](const TensorBase& g) -> Grads {
          const Saved& sv = *saved;
          const int64_t T = d.steps, B = d.batch, H = d.hidden, G = 4 * H;
          const DType dtype = sv.x.dtype();
          const Tensor grad = dense(g);
          const Tensor dgates = empty({T, B, G}, dtype), dh = empty({B, H}, dtype), dc = empty({B, H}, dtype);
          dispatch<OpId::lstm_recurrence_backward>(dtype)(sv.acts, sv.c_prev, sv.w_hh, sv.lengths, sv.reverse, grad,
                                                          dgates, dh, dc);
          // Everything that sums over steps is one product over all T * B rows.
          const TensorBase dg = flat(dgates);
          Tensor dx, dwih, dwhh, db;
          if (need_x) {
            dx = empty({T, B, d.input}, dtype);
            gemm(dg, sv.w_ih, {}, flat(dx));
          }
          if (need_wih) {
            dwih = empty({G, d.input}, dtype);
            gemm(transposed(dg), sv.x, {}, dwih);
          }
          if (need_whh) {
            dwhh = empty({G, H}, dtype);
            gemm(transposed(dg), flat(sv.h_prev), {}, dwhh);
          }
          if (need_bih || need_bhh) db = sum(Tensor(dg), {0});
          return {dx, need_h ? dh : Tensor(), need_c ? dc : Tensor(), dwih, dwhh, need_bih ? db : Tensor(),
                  need_bhh ? db : Tensor()};
        });
  }
  return {out.narrow(0, 0, T), out.select(0, T), out.select(0, T + 1)};
}

}  // namespace dendrite
