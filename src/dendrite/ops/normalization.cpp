// Layer normalisation (Ba, Kiros & Hinton 2016) and batch normalisation (Ioffe & Szegedy 2015),
// each on its own kernels. As composites of broadcast elementwise ops and reductions they wrote
// about ten full-size temporaries a call: batch norm took 75% of a fashion-cnn training step
// (docs/results.md); layer norm's kernels are 3x faster than its composite at a g2p-transformer
// shape (docs/performance.md).
// The conformance table checks both against the reference kernels and by gradcheck, and layer norm
// also against its composite form (tests/ops/layer_norm_test.cpp).
#include "dendrite/ops/normalization.h"

#include "dendrite/core/memory_format.h"
#include "dendrite/kernels/registry.h"
#include "dendrite/ops/checks.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/elementwise.h"

namespace dendrite {

using kernels::dispatch;
using kernels::OpId;
using Grads = std::vector<TensorBase>;

namespace {

// Checks an optional per-feature parameter (weight, bias, running statistic) against its expected
// shape and the input's dtype.
void check_param(const char* op, const char* what, const Tensor& p, const Shape& expected, const Tensor& x,
                 const char* expected_what) {
  if (!p.defined()) return;
  DENDRITE_CHECK(p.shape() == expected, "{}: {} has shape {}, expected {} {} for input {}", op, what,
                 to_string(p.shape()), expected_what, to_string(expected), to_string(x.shape()));
  DENDRITE_CHECK(p.dtype() == x.dtype(), "{}: {} is {} but the input is {}", op, what, describe(p), describe(x));
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  DENDRITE_CHECK(is_floating(x.dtype()), "layer_norm: needs a floating-point tensor, got {}", describe(x));
  const auto k = static_cast<int64_t>(normalized_shape.size());
  // An empty normalized_shape would normalise each value on its own (always to 0): surely a mistake.
  DENDRITE_CHECK(k > 0, "layer_norm: normalized_shape must not be empty (input {})", to_string(x.shape()));
  DENDRITE_CHECK(k <= x.dim() && Shape(x.shape().end() - k, x.shape().end()) == normalized_shape,
                 "layer_norm: normalized_shape {} does not match the trailing dimensions of input {}",
                 to_string(normalized_shape), to_string(x.shape()));
  check_param("layer_norm", "weight", weight, normalized_shape, x, "normalized_shape");
  check_param("layer_norm", "bias", bias, normalized_shape, x, "normalized_shape");

  int64_t features = 1;
  for (int64_t d : normalized_shape) features *= d;
  check_same_device("layer_norm", {&x, &weight, &bias});

  // The kernels read dense operands (kernels/ops.h).
  const Tensor xc = x.contiguous();
  const Tensor w = weight.defined() ? weight.contiguous() : Tensor();
  const Tensor b = bias.defined() ? bias.contiguous() : Tensor();
  const bool record = autograd::should_record({&x, &weight, &bias});
  const int64_t rows = features == 0 ? 0 : x.numel() / features;
  Tensor y = empty(x.shape(), x.dtype());
  Tensor mean = record ? empty({rows}, x.dtype()) : Tensor();
  Tensor rstd = record ? empty({rows}, x.dtype()) : Tensor();
  dispatch<OpId::layer_norm_forward>(x.dtype())(xc, w, b, features, eps, y, mean, rstd);
  if (record) {
    const bool need_w = weight.defined() && weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    autograd::record("layer_norm", y, {x, weight, bias},
                     [xc, w, mean, rstd, features, normalized_shape, need_w, need_b](const TensorBase& g) -> Grads {
                       Tensor gx = empty(xc.shape(), xc.dtype());
                       Tensor gw = need_w ? empty(normalized_shape, xc.dtype()) : Tensor();
                       Tensor gb = need_b ? empty(normalized_shape, xc.dtype()) : Tensor();
                       dispatch<OpId::layer_norm_backward>(xc.dtype())(xc, Tensor(g).contiguous(), mean, rstd, w,
                                                                       features, gx, gw, gb);
                       return {gx, gw, gb};
                     });
  }
  return y;
}

namespace {

// t stored in `format`: itself when it already is, else a copy.
Tensor in_format(const Tensor& t, MemoryFormat format) {
  if (format == MemoryFormat::contiguous) return t.contiguous();
  if (memory_format_of(t) == format) return t;
  Tensor out(empty_in(format, t.shape(), t.dtype()));
  copy_(out, t);
  return out;
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  DENDRITE_CHECK(is_floating(x.dtype()), "batch_norm: needs a floating-point tensor, got {}", describe(x));
  DENDRITE_CHECK(x.dim() >= 2, "batch_norm: expects an input of rank >= 2 [N, C, ...], got shape {}",
                 to_string(x.shape()));
  const int64_t channels = x.size(1);
  const Shape per_channel{channels};
  check_param("batch_norm", "running_mean", running_mean, per_channel, x, "[C] =");
  check_param("batch_norm", "running_var", running_var, per_channel, x, "[C] =");
  check_param("batch_norm", "weight", weight, per_channel, x, "[C] =");
  check_param("batch_norm", "bias", bias, per_channel, x, "[C] =");
  DENDRITE_CHECK(running_mean.defined() == running_var.defined(),
                 "batch_norm: running_mean and running_var must be given together");

  // The kernels read [N, C, S] contiguous operands or channels-last ones (kernels/ops.h); a
  // channels-last x stays so, as do y and the gradient (core/memory_format.h).
  const MemoryFormat format = memory_format_of(x);
  const Tensor xc = in_format(x, format);
  const Tensor w = weight.defined() ? weight.contiguous() : Tensor();
  const Tensor b = bias.defined() ? bias.contiguous() : Tensor();
  Tensor mean, var;
  if (training) {
    const int64_t count = channels == 0 ? 0 : x.numel() / channels;
    DENDRITE_CHECK(count > 1, "batch_norm: expected more than 1 value per channel when training, got input {}",
                   to_string(x.shape()));
    mean = empty(per_channel, x.dtype());
    var = empty(per_channel, x.dtype());
    dispatch<OpId::batch_norm_stats>(x.dtype())(xc, mean, var);
    if (running_mean.defined()) {
      autograd::NoGradGuard no_grad;
      // PyTorch's convention: the running variance is the unbiased estimate, while normalising
      // uses the biased one.
      const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
      mul_(running_mean, 1.0 - momentum);
      add_(running_mean, mean, momentum);
      mul_(running_var, 1.0 - momentum);
      add_(running_var, var, momentum * unbias);
    }
  } else {
    DENDRITE_CHECK(running_mean.defined(), "batch_norm: evaluation mode needs running_mean and running_var (input {})",
                   to_string(x.shape()));
    // Copies: the node below must keep the statistics this forward used, even if a later training
    // step updates the running buffers in place before backward runs.
    mean = running_mean.clone();
    var = running_var.clone();
  }
  Tensor y(empty_in(format, x.shape(), x.dtype()));
  dispatch<OpId::batch_norm_forward>(x.dtype())(xc, mean, var, w, b, eps, y);

  if (autograd::should_record({&x, &weight, &bias})) {
    const bool need_w = weight.defined() && weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    autograd::record("batch_norm", y, {x, weight, bias},
                     [xc, w, mean, var, eps, training, need_w, need_b, channels, format](const TensorBase& g) -> Grads {
                       Tensor gx(empty_in(format, xc.shape(), xc.dtype()));
                       Tensor gw = need_w ? empty({channels}, xc.dtype()) : Tensor();
                       Tensor gb = need_b ? empty({channels}, xc.dtype()) : Tensor();
                       dispatch<OpId::batch_norm_backward>(xc.dtype())(xc, in_format(Tensor(g), format), mean, var, w,
                                                                       eps, training, gx, gw, gb);
                       return {gx, gw, gb};
                     });
  }
  return y;
}

}  // namespace dendrite
