// Reference 2-D convolution (cross-correlation, as in PyTorch's Conv2d): NCHW input, OIHW weights,
// zero padding, stride, dilation and groups. Every kernel walks the same loop nest as the
// definition
//   y[n, o, ho, wo] = bias[o] + sum_{c, i, j} x[n, g*Cg + c, ho*s - p + i*d, wo*s - p + j*d] * w[o, c, i, j]
// where g = o / Og is the group of output channel o; taps that land in the padding contribute zero.
// The backward kernels reuse that nest: backward-data scatters each tap into a double accumulator,
// backward-weights sums each tap's product, so all three visibly differentiate the same formula.
#include <vector>

#include "dendrite/kernels/reference/reference.h"
#include "dendrite/kernels/reference/view4.h"

namespace dendrite::kernels::reference {

namespace {

// The sizes of one convolution, read from the operands once.
struct ConvDims {
  int64_t N, C, H, W;      // input
  int64_t O, Cg, KH, KW;   // weights; Cg = C / groups input channels per group
  int64_t Ho, Wo;          // output
  int64_t Og;              // output channels per group
  ConvDims(const Shape& x, const Shape& w, const Shape& y, int64_t groups)
      : N(x[0]), C(x[1]), H(x[2]), W(x[3]), O(w[0]), Cg(w[1]), KH(w[2]), KW(w[3]), Ho(y[2]), Wo(y[3]),
        Og(w[0] / groups) {}
};

// Calls tap(n, o, ho, wo, ci, hi, wi, c, i, j) for every (output element, kernel tap) pair whose
// input position (hi, wi) of input channel ci lies inside the input; taps in the padding are zero
// and skipped.
template <typename Tap>
void for_each_tap(const ConvDims& d, const Conv2dParams& p, Tap&& tap) {
  for (int64_t n = 0; n < d.N; ++n) {
    for (int64_t o = 0; o < d.O; ++o) {
      const int64_t group = o / d.Og;
      for (int64_t ho = 0; ho < d.Ho; ++ho) {
        for (int64_t wo = 0; wo < d.Wo; ++wo) {
          for (int64_t c = 0; c < d.Cg; ++c) {
            const int64_t ci = group * d.Cg + c;
            for (int64_t i = 0; i < d.KH; ++i) {
              const int64_t hi = ho * p.stride[0] - p.padding[0] + i * p.dilation[0];
              if (hi < 0 || hi >= d.H) continue;
              for (int64_t j = 0; j < d.KW; ++j) {
                const int64_t wi = wo * p.stride[1] - p.padding[1] + j * p.dilation[1];
                if (wi < 0 || wi >= d.W) continue;
                tap(n, o, ho, wo, ci, hi, wi, c, i, j);
              }
            }
          }
        }
      }
    }
  }
}

// Row-major index into a double accumulator of a contiguous 4-D shape.
int64_t flat(const Shape& s, int64_t a, int64_t b, int64_t c, int64_t d) {
  return ((a * s[1] + b) * s[2] + c) * s[3] + d;
}

template <typename D>
void store(const std::vector<double>& acc, const TensorBase& out) {
  const Shape& s = out.shape();
  View4<D> v(out);
  for (int64_t a = 0; a < s[0]; ++a)
    for (int64_t b = 0; b < s[1]; ++b)
      for (int64_t c = 0; c < s[2]; ++c)
        for (int64_t d = 0; d < s[3]; ++d) v(a, b, c, d) = convert<D>(acc[static_cast<size_t>(flat(s, a, b, c, d))]);
}

template <typename D>
void forward_typed(const TensorBase& x, const TensorBase& w, const TensorBase& bias, const Conv2dParams& p,
                   const TensorBase& y) {
  const ConvDims d(x.shape(), w.shape(), y.shape(), p.groups);
  const View4<D> vx(x), vw(w);
  std::vector<double> acc(static_cast<size_t>(y.numel()), 0.0);
  for_each_tap(d, p, [&](int64_t n, int64_t o, int64_t ho, int64_t wo, int64_t ci, int64_t hi, int64_t wi,
                         int64_t c, int64_t i, int64_t j) {
    acc[static_cast<size_t>(flat(y.shape(), n, o, ho, wo))] += vx.get(n, ci, hi, wi) * vw.get(o, c, i, j);
  });
  if (bias.defined()) {
    const D* pb = static_cast<const D*>(bias.storage().data()) + bias.offset();
    for (int64_t n = 0; n < d.N; ++n)
      for (int64_t o = 0; o < d.O; ++o)
        for (int64_t ho = 0; ho < d.Ho; ++ho)
          for (int64_t wo = 0; wo < d.Wo; ++wo)
            acc[static_cast<size_t>(flat(y.shape(), n, o, ho, wo))] += convert<double>(pb[o * bias.strides()[0]]);
  }
  if (p.relu) {
    for (double& v : acc) v = v > 0.0 ? v : 0.0;
  }
  store<D>(acc, y);
}

template <typename D>
void backward_data_typed(const TensorBase& gy, const TensorBase& w, const Conv2dParams& p, const TensorBase& gx) {
  const ConvDims d(gx.shape(), w.shape(), gy.shape(), p.groups);
  const View4<D> vgy(gy), vw(w);
  std::vector<double> acc(static_cast<size_t>(gx.numel()), 0.0);
  for_each_tap(d, p, [&](int64_t n, int64_t o, int64_t ho, int64_t wo, int64_t ci, int64_t hi, int64_t wi,
                         int64_t c, int64_t i, int64_t j) {
    acc[static_cast<size_t>(flat(gx.shape(), n, ci, hi, wi))] += vgy.get(n, o, ho, wo) * vw.get(o, c, i, j);
  });
  store<D>(acc, gx);
}

template <typename D>
void backward_weights_typed(const TensorBase& x, const TensorBase& gy, const Conv2dParams& p, const TensorBase& gw,
                            const TensorBase& gbias) {
  const ConvDims d(x.shape(), gw.shape(), gy.shape(), p.groups);
  const View4<D> vx(x), vgy(gy);
  std::vector<double> acc(static_cast<size_t>(gw.numel()), 0.0);
  for_each_tap(d, p, [&](int64_t n, int64_t o, int64_t ho, int64_t wo, int64_t ci, int64_t hi, int64_t wi,
                         int64_t c, int64_t i, int64_t j) {
    acc[static_cast<size_t>(flat(gw.shape(), o, c, i, j))] += vx.get(n, ci, hi, wi) * vgy.get(n, o, ho, wo);
  });
  store<D>(acc, gw);
  if (gbias.defined()) {
    D* pb = static_cast<D*>(gbias.storage().data()) + gbias.offset();
    for (int64_t o = 0; o < d.O; ++o) {
      double sum = 0.0;
      for (int64_t n = 0; n < d.N; ++n)
        for (int64_t ho = 0; ho < d.Ho; ++ho)
          for (int64_t wo = 0; wo < d.Wo; ++wo) sum += vgy.get(n, o, ho, wo);
      pb[o * gbias.strides()[0]] = convert<D>(sum);
    }
  }
}

void forward(const TensorBase& x, const TensorBase& w, const TensorBase& bias, const Conv2dParams& p,
             const TensorBase& y) {
  visit_dtype(x.dtype(), [&](auto tag) { forward_typed<decltype(tag)>(x, w, bias, p, y); });
}

void backward_data(const TensorBase& gy, const TensorBase& w, const Conv2dParams& p, const TensorBase& gx) {
  visit_dtype(gy.dtype(), [&](auto tag) { backward_data_typed<decltype(tag)>(gy, w, p, gx); });
}

void backward_weights(const TensorBase& x, const TensorBase& gy, const Conv2dParams& p, const TensorBase& gw,
                      const TensorBase& gbias) {
  visit_dtype(x.dtype(), [&](auto tag) { backward_weights_typed<decltype(tag)>(x, gy, p, gw, gbias); });
}

}  // namespace

void register_conv(Registry& registry) {
  const auto floats = {DType::f32, DType::f64, DType::bf16, DType::f16};
  registry.add<OpId::conv2d_forward>(Backend::reference, floats, forward);
  registry.add<OpId::conv2d_backward_data>(Backend::reference, floats, backward_data);
  registry.add<OpId::conv2d_backward_weights>(Backend::reference, floats, backward_weights);
}

}  // namespace dendrite::kernels::reference
