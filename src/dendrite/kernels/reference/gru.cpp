// Reference GRU step kernels (contract in kernels/ops.h), in double, element by element, following
// every operand's strides. The cell of Cho et al. 2014 as PyTorch's GRU computes it (the reset
// gate applied to the recurrent projection of the candidate), gates r, z, n:
//   r = sigmoid(gx_r + gh_r),  z = sigmoid(gx_z + gh_z),  n = tanh(gx_n + r gh_n)
//   h' = (1 - z) n + z h
// and its gradient by the chain rule, with g the gradient of h':
//   dn = g (1 - z) (1 - n^2)      (d tanh(u)/du = 1 - tanh(u)^2)
//   dz = g (h - n) z (1 - z)      (h' = n + z (h - n); d sigmoid(u)/du = s (1 - s))
//   dr = dn gh_n r (1 - r)        (r enters only through r gh_n)
//   dgx = (dr, dz, dn),  dgh = (dr, dz, r dn),  dh = g z
#include <cmath>

#include "dendrite/kernels/reference/reference.h"

namespace dendrite::kernels::reference {

namespace {

// Element (b, j) of a [B, W] operand.
template <typename D>
D& element(const TensorBase& x, int64_t b, int64_t j) {
  return static_cast<D*>(x.storage().data())[x.offset() + b * x.stride(0) + j * x.stride(1)];
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// The gates of element j of row b.
struct Gates {
  double r, z, n;
};

template <typename D>
Gates gates(const TensorBase& gx, const TensorBase& gh, int64_t b, int64_t j, int64_t hidden) {
  auto x = [&](int64_t gate) { return convert<double>(element<D>(gx, b, gate * hidden + j)); };
  auto s = [&](int64_t gate) { return convert<double>(element<D>(gh, b, gate * hidden + j)); };
  const double r = sigmoid(x(0) + s(0));
  return {r, sigmoid(x(1) + s(1)), std::tanh(x(2) + r * s(2))};
}

template <typename D>
void forward_typed(const TensorBase& gx, const TensorBase& gh, const TensorBase& h, const TensorBase& h_out) {
  const int64_t batch = h.size(0), hidden = h.size(1);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t j = 0; j < hidden; ++j) {
      const Gates a = gates<D>(gx, gh, b, j, hidden);
      const double h_old = convert<double>(element<D>(h, b, j));
      element<D>(h_out, b, j) = convert<D>((1.0 - a.z) * a.n + a.z * h_old);
    }
  }
}

template <typename D>
void backward_typed(const TensorBase& gx, const TensorBase& gh, const TensorBase& h, const TensorBase& dh_out,
                    const TensorBase& dgx, const TensorBase& dgh, const TensorBase& dh) {
  const int64_t batch = h.size(0), hidden = h.size(1);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t j = 0; j < hidden; ++j) {
      const Gates a = gates<D>(gx, gh, b, j, hidden);
      const double g = convert<double>(element<D>(dh_out, b, j));
      const double h_old = convert<double>(element<D>(h, b, j));
      const double gh_n = convert<double>(element<D>(gh, b, 2 * hidden + j));
      const double dn = g * (1.0 - a.z) * (1.0 - a.n * a.n);
      const double dz = g * (h_old - a.n) * a.z * (1.0 - a.z);
      const double dr = dn * gh_n * a.r * (1.0 - a.r);
      const double dx[3] = {dr, dz, dn}, ds[3] = {dr, dz, a.r * dn};
      for (int64_t k = 0; k < 3; ++k) {
        element<D>(dgx, b, k * hidden + j) = convert<D>(dx[k]);
        element<D>(dgh, b, k * hidden + j) = convert<D>(ds[k]);
      }
      element<D>(dh, b, j) = convert<D>(g * a.z);
    }
  }
}

void forward(const TensorBase& gx, const TensorBase& gh, const TensorBase& h, const TensorBase& h_out) {
  visit_dtype(h.dtype(), [&](auto tag) { forward_typed<decltype(tag)>(gx, gh, h, h_out); });
}

void backward(const TensorBase& gx, const TensorBase& gh, const TensorBase& h, const TensorBase& dh_out,
              const TensorBase& dgx, const TensorBase& dgh, const TensorBase& dh) {
  visit_dtype(h.dtype(), [&](auto tag) { backward_typed<decltype(tag)>(gx, gh, h, dh_out, dgx, dgh, dh); });
}

}  // namespace

void register_gru(Registry& registry) {
  auto floating = {DType::f32, DType::f64, DType::bf16, DType::f16};
  registry.add<OpId::gru_forward>(Backend::reference, floating, forward);
  registry.add<OpId::gru_backward>(Backend::reference, floating, backward);
}

}  // namespace dendrite::kernels::reference
