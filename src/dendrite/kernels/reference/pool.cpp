// Reference 2-D max and average pooling on NCHW tensors, following PyTorch's MaxPool2d/AvgPool2d
// (floor mode): window (ho, wo) covers input rows ho*s - p .. ho*s - p + k - 1 (likewise columns).
// Max pooling treats the padding as -inf, so it never wins; its gradient goes to the FIRST maximum
// of the window in row-major order (the element PyTorch's index records). Average pooling divides
// by kh*kw when count_include_pad, else by the number of in-bounds elements of the window.
#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "dendrite/kernels/reference/reference.h"
#include "dendrite/kernels/reference/view4.h"

namespace dendrite::kernels::reference {

namespace {

// One pooling window clipped to the input: rows [h0, h1), columns [w0, w1).
struct Window {
  int64_t h0, h1, w0, w1;
  int64_t count() const { return (h1 - h0) * (w1 - w0); }
};

Window window(const Pool2dParams& p, int64_t H, int64_t W, int64_t ho, int64_t wo) {
  const int64_t hs = ho * p.stride[0] - p.padding[0], ws = wo * p.stride[1] - p.padding[1];
  return {std::max<int64_t>(hs, 0), std::min(hs + p.kernel[0], H), std::max<int64_t>(ws, 0),
          std::min(ws + p.kernel[1], W)};
}

double divisor(const Pool2dParams& p, const Window& win) {
  return p.count_include_pad ? static_cast<double>(p.kernel[0] * p.kernel[1]) : static_cast<double>(win.count());
}

// Calls fn(n, c, ho, wo, window) for every output element of y's shape.
template <typename Fn>
void for_each_window(const Shape& x, const Shape& y, const Pool2dParams& p, Fn&& fn) {
  for (int64_t n = 0; n < y[0]; ++n)
    for (int64_t c = 0; c < y[1]; ++c)
      for (int64_t ho = 0; ho < y[2]; ++ho)
        for (int64_t wo = 0; wo < y[3]; ++wo) fn(n, c, ho, wo, window(p, x[2], x[3], ho, wo));
}

// The first maximum of a window in row-major order, as (row, column). Strict '>' keeps the first.
template <typename D>
std::pair<int64_t, int64_t> first_max(const View4<D>& vx, int64_t n, int64_t c, const Window& win) {
  double best = -std::numeric_limits<double>::infinity();
  std::pair<int64_t, int64_t> at{win.h0, win.w0};
  for (int64_t h = win.h0; h < win.h1; ++h) {
    for (int64_t w = win.w0; w < win.w1; ++w) {
      if (vx.get(n, c, h, w) > best) {
        best = vx.get(n, c, h, w);
        at = {h, w};
      }
    }
  }
  return at;
}

template <typename D>
void forward_typed(const TensorBase& x, const Pool2dParams& p, const TensorBase& y) {
  const View4<D> vx(x), vy(y);
  for_each_window(x.shape(), y.shape(), p, [&](int64_t n, int64_t c, int64_t ho, int64_t wo, const Window& win) {
    double result = 0.0;
    if (p.kind == PoolKind::max) {
      result = -std::numeric_limits<double>::infinity();  // padding is -inf
      for (int64_t h = win.h0; h < win.h1; ++h)
        for (int64_t w = win.w0; w < win.w1; ++w) result = std::max(result, vx.get(n, c, h, w));
    } else {
      for (int64_t h = win.h0; h < win.h1; ++h)
        for (int64_t w = win.w0; w < win.w1; ++w) result += vx.get(n, c, h, w);
      result /= divisor(p, win);
    }
    vy(n, c, ho, wo) = convert<D>(result);
  });
}

// y is not needed here: the first maximum is found again from x, which is exactly what the
// forward kept. Gradients are summed in double and stored once (windows may overlap).
template <typename D>
void backward_typed(const TensorBase& x, const TensorBase& gy, const Pool2dParams& p, const TensorBase& gx) {
  const Shape& xs = x.shape();
  const View4<D> vx(x), vgy(gy), vgx(gx);
  std::vector<double> acc(static_cast<size_t>(gx.numel()), 0.0);
  auto at = [&](int64_t n, int64_t c, int64_t h, int64_t w) -> double& {
    return acc[static_cast<size_t>(((n * xs[1] + c) * xs[2] + h) * xs[3] + w)];
  };
  for_each_window(xs, gy.shape(), p, [&](int64_t n, int64_t c, int64_t ho, int64_t wo, const Window& win) {
    const double g = vgy.get(n, c, ho, wo);
    if (p.kind == PoolKind::max) {
      auto [h, w] = first_max(vx, n, c, win);
      at(n, c, h, w) += g;
    } else {
      for (int64_t h = win.h0; h < win.h1; ++h)
        for (int64_t w = win.w0; w < win.w1; ++w) at(n, c, h, w) += g / divisor(p, win);
    }
  });
  for (int64_t n = 0; n < xs[0]; ++n)
    for (int64_t c = 0; c < xs[1]; ++c)
      for (int64_t h = 0; h < xs[2]; ++h)
        for (int64_t w = 0; w < xs[3]; ++w) vgx(n, c, h, w) = convert<D>(at(n, c, h, w));
}

void forward(const TensorBase& x, const Pool2dParams& p, const TensorBase& y) {
  visit_dtype(x.dtype(), [&](auto tag) { forward_typed<decltype(tag)>(x, p, y); });
}

void backward(const TensorBase& x, const TensorBase& y, const TensorBase& gy, const Pool2dParams& p,
              const TensorBase& gx) {
  (void)y;
  visit_dtype(x.dtype(), [&](auto tag) { backward_typed<decltype(tag)>(x, gy, p, gx); });
}

}  // namespace

void register_pool(Registry& registry) {
  const auto floats = {DType::f32, DType::f64, DType::bf16, DType::f16};
  registry.add<OpId::pool2d_forward>(Backend::reference, floats, forward);
  registry.add<OpId::pool2d_backward>(Backend::reference, floats, backward);
}

}  // namespace dendrite::kernels::reference
