// Reference layer normalisation (Ba, Kiros & Hinton 2016), in double, one row of D values at a
// time, straight from the definitions (contract and gradients in kernels/ops.h). The variance is
// the biased one, from a second pass over the row once its mean is known.
#include <cmath>
#include <vector>

#include "dendrite/kernels/reference/reference.h"

namespace dendrite::kernels::reference {

namespace {

template <typename D>
double param(const TensorBase& p, int64_t i, double absent) {
  return p.defined() ? convert<double>(p.data_ptr<D>()[i]) : absent;
}

int64_t rows_of(const TensorBase& x, int64_t features) { return features == 0 ? 0 : x.numel() / features; }

template <typename D>
void forward_typed(const TensorBase& x, const TensorBase& weight, const TensorBase& bias, int64_t features, double eps,
                   const TensorBase& y, const TensorBase& mean, const TensorBase& rstd) {
  const D* px = x.data_ptr<D>();
  D* py = y.data_ptr<D>();
  for (int64_t r = 0; r < rows_of(x, features); ++r) {
    const D* row = px + r * features;
    double m = 0.0;
    for (int64_t i = 0; i < features; ++i) m += convert<double>(row[i]);
    m /= static_cast<double>(features);
    double var = 0.0;
    for (int64_t i = 0; i < features; ++i) {
      const double d = convert<double>(row[i]) - m;
      var += d * d;
    }
    const double inv = 1.0 / std::sqrt(var / static_cast<double>(features) + eps);
    for (int64_t i = 0; i < features; ++i) {
      const double xhat = (convert<double>(row[i]) - m) * inv;
      py[r * features + i] = convert<D>(xhat * param<D>(weight, i, 1.0) + param<D>(bias, i, 0.0));
    }
    if (mean.defined()) mean.data_ptr<D>()[r] = convert<D>(m);
    if (rstd.defined()) rstd.data_ptr<D>()[r] = convert<D>(inv);
  }
}

template <typename D>
void backward_typed(const TensorBase& x, const TensorBase& gy, const TensorBase& mean, const TensorBase& rstd,
                    const TensorBase& weight, int64_t features, const TensorBase& gx, const TensorBase& gweight,
                    const TensorBase& gbias) {
  const auto d = static_cast<size_t>(features);
  std::vector<double> gw(d, 0.0), gb(d, 0.0), xhat(d), gxhat(d);
  const D* px = x.data_ptr<D>();
  const D* pg = gy.data_ptr<D>();
  D* pgx = gx.data_ptr<D>();
  for (int64_t r = 0; r < rows_of(x, features); ++r) {
    const double m = convert<double>(mean.data_ptr<D>()[r]), inv = convert<double>(rstd.data_ptr<D>()[r]);
    double mean_g = 0.0, mean_gx = 0.0;
    for (size_t i = 0; i < d; ++i) {
      const double g = convert<double>(pg[r * features + static_cast<int64_t>(i)]);
      xhat[i] = (convert<double>(px[r * features + static_cast<int64_t>(i)]) - m) * inv;
      gxhat[i] = g * param<D>(weight, static_cast<int64_t>(i), 1.0);
      mean_g += gxhat[i];
      mean_gx += gxhat[i] * xhat[i];
      gw[i] += g * xhat[i];
      gb[i] += g;
    }
    mean_g /= static_cast<double>(features);
    mean_gx /= static_cast<double>(features);
    for (size_t i = 0; i < d; ++i)
      pgx[r * features + static_cast<int64_t>(i)] = convert<D>(inv * (gxhat[i] - mean_g - xhat[i] * mean_gx));
  }
  for (size_t i = 0; i < d; ++i) {
    if (gweight.defined()) gweight.data_ptr<D>()[i] = convert<D>(gw[i]);
    if (gbias.defined()) gbias.data_ptr<D>()[i] = convert<D>(gb[i]);
  }
}

void forward(const TensorBase& x, const TensorBase& weight, const TensorBase& bias, int64_t features, double eps,
             const TensorBase& y, const TensorBase& mean, const TensorBase& rstd) {
  visit_dtype(x.dtype(),
              [&](auto tag) { forward_typed<decltype(tag)>(x, weight, bias, features, eps, y, mean, rstd); });
}

void backward(const TensorBase& x, const TensorBase& gy, const TensorBase& mean, const TensorBase& rstd,
              const TensorBase& weight, int64_t features, const TensorBase& gx, const TensorBase& gweight,
              const TensorBase& gbias) {
  visit_dtype(x.dtype(), [&](auto tag) {
    backward_typed<decltype(tag)>(x, gy, mean, rstd, weight, features, gx, gweight, gbias);
  });
}

}  // namespace

void register_layer_norm(Registry& registry) {
  auto floating = {DType::f32, DType::f64, DType::bf16, DType::f16};
  registry.add<OpId::layer_norm_forward>(Backend::reference, floating, forward);
  registry.add<OpId::layer_norm_backward>(Backend::reference, floating, backward);
}

}  // namespace dendrite::kernels::reference
