// Reference softmax, log-softmax and the fused cross-entropy: one slice at a time along the axis,
// in double. The maximum is subtracted before exponentiating so that large logits cannot overflow
// (softmax is invariant to a shift of its inputs).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "dendrite/core/strided_loop.h"
#include "dendrite/kernels/reference/reference.h"

namespace dendrite::kernels::reference {

namespace {

template <typename T>
T* data(const TensorBase& t) {
  return static_cast<T*>(t.storage().data()) + t.offset();
}

// `shape` with `axis` collapsed to 1: iterating it visits the first element of every slice.
Shape slice_starts(const Shape& shape, size_t axis) {
  Shape s = shape;
  s[axis] = 1;
  return s;
}

// out = log_softmax(row); out may alias row.
void log_softmax_row(const std::vector<double>& row, std::vector<double>& out) {
  double max = -std::numeric_limits<double>::infinity();
  for (double v : row) max = std::max(max, v);
  double sum = 0.0;
  for (double v : row) sum += std::exp(v - max);
  const double log_sum = max + std::log(sum);
  for (size_t i = 0; i < row.size(); ++i) out[i] = row[i] - log_sum;
}

template <typename D>
void softmax_forward_typed(const TensorBase& x, size_t axis, bool log, const TensorBase& y) {
  const auto n = static_cast<size_t>(x.shape()[axis]);
  const int64_t xs = x.strides()[axis], ys = y.strides()[axis];
  const D* px = data<D>(x);
  D* py = data<D>(y);
  std::vector<double> row(n), out(n);
  for_each_offset(slice_starts(x.shape(), axis), {x.strides(), y.strides()}, [&](const int64_t* o) {
    for (size_t i = 0; i < n; ++i) row[i] = convert<double>(px[o[0] + static_cast<int64_t>(i) * xs]);
    log_softmax_row(row, out);
    for (size_t i = 0; i < n; ++i) {
      py[o[1] + static_cast<int64_t>(i) * ys] = convert<D>(log ? out[i] : std::exp(out[i]));
    }
  });
}

void softmax_forward(const TensorBase& x, int64_t axis, bool log, const TensorBase& y) {
  visit_dtype(x.dtype(), [&](auto tag) { softmax_forward_typed<decltype(tag)>(x, static_cast<size_t>(axis), log, y); });
}

// softmax:     gx = y * (gy - sum(gy * y))
// log_softmax: gx = gy - exp(y) * sum(gy)
template <typename D>
void softmax_backward_typed(const TensorBase& y, const TensorBase& gy, size_t axis, bool log, const TensorBase& gx) {
  const int64_t n = y.shape()[axis];
  const int64_t ys = y.strides()[axis], gys = gy.strides()[axis], gxs = gx.strides()[axis];
  const D* py = data<D>(y);
  const D* pgy = data<D>(gy);
  D* pgx = data<D>(gx);
  for_each_offset(slice_starts(y.shape(), axis), {y.strides(), gy.strides(), gx.strides()}, [&](const int64_t* o) {
    double dot = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      double g = convert<double>(pgy[o[1] + i * gys]);
      dot += log ? g : g * convert<double>(py[o[0] + i * ys]);
    }
    for (int64_t i = 0; i < n; ++i) {
      double v = convert<double>(py[o[0] + i * ys]);
      double g = convert<double>(pgy[o[1] + i * gys]);
      pgx[o[2] + i * gxs] = convert<D>(log ? g - std::exp(v) * dot : v * (g - dot));
    }
  });
}

void softmax_backward(const TensorBase& y, const TensorBase& gy, int64_t axis, bool log, const TensorBase& gx) {
  visit_dtype(y.dtype(),
              [&](auto tag) { softmax_backward_typed<decltype(tag)>(y, gy, static_cast<size_t>(axis), log, gx); });
}

// loss[n] = -(1 - s) * logp[n, label] - s / C * sum_c logp[n, c]: the cross-entropy against the
// smoothed target (1 - s) * onehot + s / C (Szegedy et al. 2016, "Rethinking the Inception
// Architecture", section 7).
template <typename D>
void cross_entropy_forward_typed(const TensorBase& logits, const TensorBase& labels, double s, const TensorBase& loss,
                                 const TensorBase& log_probs) {
  const int64_t N = logits.shape()[0];
  const auto C = static_cast<size_t>(logits.shape()[1]);
  const D* px = data<D>(logits);
  const int64_t* pl = data<int64_t>(labels);
  D* ploss = data<D>(loss);
  D* plp = data<D>(log_probs);
  std::vector<double> row(C), lp(C);
  for (int64_t n = 0; n < N; ++n) {
    for (size_t c = 0; c < C; ++c) {
      row[c] = convert<double>(px[n * logits.strides()[0] + static_cast<int64_t>(c) * logits.strides()[1]]);
    }
    log_softmax_row(row, lp);
    double sum = 0.0;
    for (size_t c = 0; c < C; ++c) {
      sum += lp[c];
      plp[n * log_probs.strides()[0] + static_cast<int64_t>(c) * log_probs.strides()[1]] = convert<D>(lp[c]);
    }
    const auto label = static_cast<size_t>(pl[n * labels.strides()[0]]);
    ploss[n * loss.strides()[0]] = convert<D>(-(1.0 - s) * lp[label] - s / static_cast<double>(C) * sum);
  }
}

void cross_entropy_forward(const TensorBase& logits, const TensorBase& labels, double label_smoothing,
                           const TensorBase& loss, const TensorBase& log_probs) {
  visit_dtype(logits.dtype(), [&](auto tag) {
    cross_entropy_forward_typed<decltype(tag)>(logits, labels, label_smoothing, loss, log_probs);
  });
}

// glogits[n, c] = gloss[n] * (softmax[n, c] - target[n, c]), target = (1 - s) * onehot + s / C.
template <typename D>
void cross_entropy_backward_typed(const TensorBase& log_probs, const TensorBase& labels, const TensorBase& gloss,
                                  double s, const TensorBase& glogits) {
  const int64_t N = log_probs.shape()[0], C = log_probs.shape()[1];
  const D* plp = data<D>(log_probs);
  const int64_t* pl = data<int64_t>(labels);
  const D* pg = data<D>(gloss);
  D* pgx = data<D>(glogits);
  const double uniform = s / static_cast<double>(C);
  for (int64_t n = 0; n < N; ++n) {
    const int64_t label = pl[n * labels.strides()[0]];
    const double g = convert<double>(pg[n * gloss.strides()[0]]);
    for (int64_t c = 0; c < C; ++c) {
      double p = std::exp(convert<double>(plp[n * log_probs.strides()[0] + c * log_probs.strides()[1]]));
      double target = (c == label ? 1.0 - s : 0.0) + uniform;
      pgx[n * glogits.strides()[0] + c * glogits.strides()[1]] = convert<D>(g * (p - target));
    }
  }
}

void cross_entropy_backward(const TensorBase& log_probs, const TensorBase& labels, const TensorBase& gloss,
                            double label_smoothing, const TensorBase& glogits) {
  visit_dtype(log_probs.dtype(), [&](auto tag) {
    cross_entropy_backward_typed<decltype(tag)>(log_probs, labels, gloss, label_smoothing, glogits);
  });
}

}  // namespace

void register_softmax(Registry& registry) {
  auto floating = {DType::f32, DType::f64, DType::bf16, DType::f16};
  registry.add<OpId::softmax_forward>(Backend::reference, floating, softmax_forward);
  registry.add<OpId::softmax_backward>(Backend::reference, floating, softmax_backward);
  registry.add<OpId::cross_entropy_forward>(Backend::reference, floating, cross_entropy_forward);
  registry.add<OpId::cross_entropy_backward>(Backend::reference, floating, cross_entropy_backward);
}

}  // namespace dendrite::kernels::reference
