// Reference LSTM step kernels (contract in kernels/ops.h), in double, element by element, following
// every operand's strides. The cell of Hochreiter & Schmidhuber 1997 with the forget gate of Gers
// et al. 2000, gates i, f, g, o:
//   i, f, o = sigmoid(a_i, a_f, a_o),  g = tanh(a_g),  c' = f c + i g,  h' = o tanh(c')
// and its gradient by the chain rule, with tc = tanh(c'):
//   dc_total = dc' + dh' o (1 - tc^2)         (c' reaches the loss directly and through h')
//   da_i = dc_total g i (1 - i),   da_f = dc_total c f (1 - f),   da_g = dc_total i (1 - g^2)
//   da_o = dh' tc o (1 - o),       dc = dc_total f
#include <cmath>

#include "dendrite/kernels/lstm_recurrence_loop.h"
#include "dendrite/kernels/reference/reference.h"

namespace dendrite::kernels::reference {

namespace {

// Element j of row b at step t of an operand: [T, B, W] uses step t, [B, W] ignores it.
template <typename D>
D& at(const TensorBase& x, int64_t t, int64_t b, int64_t j) {
  const Strides& s = x.strides();
  const int64_t step = s.size() == 3 ? t * s[0] : 0;
  return static_cast<D*>(x.storage().data())[x.offset() + step + b * s[s.size() - 2] + j * s.back()];
}

template <typename D>
double get(const TensorBase& x, int64_t t, int64_t b, int64_t j) {
  return convert<double>(at<D>(x, t, b, j));
}

template <typename D>
void put(const TensorBase& x, int64_t t, int64_t b, int64_t j, double v) {
  at<D>(x, t, b, j) = convert<D>(v);
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

bool active(std::span<const int64_t> lengths, int64_t t, int64_t b) {
  return lengths.empty() || t < lengths[static_cast<size_t>(b)];
}

template <typename D>
void forward_typed(const TensorBase& gates, const TensorBase& gates2, const TensorBase& c, int64_t t,
                   std::span<const int64_t> lengths, const TensorBase& h, const TensorBase& c_out, const TensorBase& y,
                   const TensorBase& acts, const TensorBase& h_prev, const TensorBase& c_prev) {
  const int64_t batch = c.size(0), n = c.size(1);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t j = 0; j < n; ++j) {
      const double c_old = get<D>(c, t, b, j);
      if (h_prev.defined()) put<D>(h_prev, t, b, j, get<D>(h, t, b, j));
      if (c_prev.defined()) put<D>(c_prev, t, b, j, c_old);
      if (!active(lengths, t, b)) {
        if (y.defined()) put<D>(y, t, b, j, 0.0);
        put<D>(c_out, t, b, j, c_old);
        continue;
      }
      auto pre = [&](int64_t gate) {
        const int64_t k = gate * n + j;
        return get<D>(gates, t, b, k) + (gates2.defined() ? get<D>(gates2, t, b, k) : 0.0);
      };
      const double i = sigmoid(pre(0)), f = sigmoid(pre(1)), g = std::tanh(pre(2)), o = sigmoid(pre(3));
      const double c_new = f * c_old + i * g;
      const double tc = std::tanh(c_new);
      put<D>(c_out, t, b, j, c_new);
      put<D>(h, t, b, j, o * tc);
      if (y.defined()) put<D>(y, t, b, j, o * tc);
      if (acts.defined()) {
        const double saved[5] = {i, f, g, o, tc};
        for (int64_t k = 0; k < 5; ++k) put<D>(acts, t, b, k * n + j, saved[k]);
      }
    }
  }
}

template <typename D>
void backward_typed(const TensorBase& acts, const TensorBase& c_prev, const TensorBase& dh, const TensorBase& dh2,
                    const TensorBase& dc, int64_t t, std::span<const int64_t> lengths, const TensorBase& dgates,
                    const TensorBase& dc_out) {
  const int64_t batch = dc.size(0), n = dc.size(1);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t j = 0; j < n; ++j) {
      const double dc_in = get<D>(dc, t, b, j);
      if (!active(lengths, t, b)) {
        for (int64_t k = 0; k < 4; ++k) put<D>(dgates, t, b, k * n + j, 0.0);
        put<D>(dc_out, t, b, j, dc_in);
        continue;
      }
      const double i = get<D>(acts, t, b, j), f = get<D>(acts, t, b, n + j), g = get<D>(acts, t, b, 2 * n + j);
      const double o = get<D>(acts, t, b, 3 * n + j), tc = get<D>(acts, t, b, 4 * n + j);
      const double dh_total = get<D>(dh, t, b, j) + (dh2.defined() ? get<D>(dh2, t, b, j) : 0.0);
      const double dc_total = dc_in + dh_total * o * (1.0 - tc * tc);
      put<D>(dgates, t, b, j, dc_total * g * i * (1.0 - i));
      put<D>(dgates, t, b, n + j, dc_total * get<D>(c_prev, t, b, j) * f * (1.0 - f));
      put<D>(dgates, t, b, 2 * n + j, dc_total * i * (1.0 - g * g));
      put<D>(dgates, t, b, 3 * n + j, dh_total * tc * o * (1.0 - o));
      put<D>(dc_out, t, b, j, dc_total * f);
    }
  }
}

void forward(const TensorBase& gates, const TensorBase& gates2, const TensorBase& c, int64_t t,
             std::span<const int64_t> lengths, const TensorBase& h, const TensorBase& c_out, const TensorBase& y,
             const TensorBase& acts, const TensorBase& h_prev, const TensorBase& c_prev) {
  visit_dtype(c.dtype(), [&](auto tag) {
    forward_typed<decltype(tag)>(gates, gates2, c, t, lengths, h, c_out, y, acts, h_prev, c_prev);
  });
}

void backward(const TensorBase& acts, const TensorBase& c_prev, const TensorBase& dh, const TensorBase& dh2,
              const TensorBase& dc, int64_t t, std::span<const int64_t> lengths, const TensorBase& dgates,
              const TensorBase& dc_out) {
  visit_dtype(dc.dtype(), [&](auto tag) {
    backward_typed<decltype(tag)>(acts, c_prev, dh, dh2, dc, t, lengths, dgates, dc_out);
  });
}

// The whole-layer loops on this backend's own matmul, step and copy kernels.
void recurrence(const TensorBase& xg, const TensorBase& w_hh, std::span<const int64_t> lengths, bool reverse,
                const TensorBase& state, const TensorBase& acts, const TensorBase& h_prev, const TensorBase& c_prev) {
  const auto matmul = Registry::global().find<OpId::matmul>(Backend::reference, xg.dtype());
  lstm_recurrence::forward_steps(matmul, forward, xg, w_hh, lengths, reverse, state, acts, h_prev, c_prev);
}

void recurrence_backward(const TensorBase& acts, const TensorBase& c_prev, const TensorBase& w_hh,
                         std::span<const int64_t> lengths, bool reverse, const TensorBase& grad,
                         const TensorBase& dgates, const TensorBase& dh, const TensorBase& dc) {
  const Registry& registry = Registry::global();
  lstm_recurrence::backward_steps(registry.find<OpId::matmul>(Backend::reference, acts.dtype()), backward,
                                  registry.find<OpId::copy>(Backend::reference, acts.dtype()), acts, c_prev, w_hh,
                                  lengths, reverse, grad, dgates, dh, dc);
}

}  // namespace

void register_lstm(Registry& registry) {
  auto floating = {DType::f32, DType::f64, DType::bf16, DType::f16};
  registry.add<OpId::lstm_forward>(Backend::reference, floating, forward);
  registry.add<OpId::lstm_backward>(Backend::reference, floating, backward);
  registry.add<OpId::lstm_recurrence>(Backend::reference, floating, recurrence);
  registry.add<OpId::lstm_recurrence_backward>(Backend::reference, floating, recurrence_backward);
}

}  // namespace dendrite::kernels::reference
