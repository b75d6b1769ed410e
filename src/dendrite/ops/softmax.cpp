// Softmax, log-softmax and the fused cross-entropy. Backward of the softmax pair needs only the
// forward output y (gx is a function of y and gy), so that is what the node saves.
#include "dendrite/ops/softmax.h"

#include "dendrite/kernels/registry.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/elementwise.h"
#include "dendrite/ops/reduction.h"

namespace dendrite {

using kernels::dispatch;
using kernels::OpId;

namespace {

using Grads = std::vector<TensorBase>;

// A 0-d tensor is softmaxed as the one-element vector it holds: the kernels need an axis.
TensorBase with_axis(const TensorBase& t) { return t.dim() == 0 ? t.as_strided({1}, {1}, t.offset()) : t; }

Tensor softmax_op(const char* name, const Tensor& x, int64_t axis, bool log) {
  DENDRITE_CHECK(is_floating(x.dtype()), "{}: needs a floating-point tensor, got {}", name, describe(x));
  const int64_t a = normalize_axis(name, axis, x.dim());
  Tensor y = empty(x.shape(), x.dtype());
  dispatch<OpId::softmax_forward>(x.dtype())(with_axis(x), a, log, with_axis(y));
  if (autograd::should_record({&x})) {
    Tensor saved_y = y.alias();  // an alias: the node must not own its own output's record
    autograd::record(name, y, {x}, [saved_y, a, log](const TensorBase& g) -> Grads {
      Tensor gx = empty(saved_y.shape(), saved_y.dtype());
      dispatch<OpId::softmax_backward>(saved_y.dtype())(with_axis(saved_y), with_axis(g), a, log, with_axis(gx));
      return {gx};
    });
  }
  return y;
}

void check_cross_entropy(const Tensor& logits, const Tensor& labels, const CrossEntropyOptions& options) {
  DENDRITE_CHECK(logits.dim() == 2, "cross_entropy: logits must be [N, C], got {}", to_string(logits.shape()));
  DENDRITE_CHECK(is_floating(logits.dtype()), "cross_entropy: logits must be floating-point, got {}", describe(logits));
  DENDRITE_CHECK(!is_floating(labels.dtype()), "cross_entropy: labels must be integer (i64 or i32), got {}",
                 describe(labels));
  const int64_t n = logits.shape()[0];
  DENDRITE_CHECK(labels.dim() == 1 && labels.shape()[0] == n,
                 "cross_entropy: labels must be [{}] to match logits {}, got {}", n, to_string(logits.shape()),
                 to_string(labels.shape()));
  const double s = options.label_smoothing;
  DENDRITE_CHECK(s >= 0.0 && s <= 1.0, "cross_entropy: label_smoothing must be in [0, 1], got {}", s);
}

// Every label must name a class; checked here, serially, because kernels never throw.
void check_labels_in_range(const Tensor& labels64, int64_t classes) {
  const int64_t* p = labels64.data_ptr<int64_t>();
  for (int64_t i = 0; i < labels64.numel(); ++i) {
    DENDRITE_CHECK(p[i] >= 0 && p[i] < classes, "cross_entropy: label {} at position {} is out of range [0, {})", p[i],
                   i, classes);
  }
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t axis) { return softmax_op("softmax", x, axis, false); }

Tensor log_softmax(const Tensor& x, int64_t axis) { return softmax_op("log_softmax", x, axis, true); }

Tensor cross_entropy(const Tensor& logits, const Tensor& labels, const CrossEntropyOptions& options) {
  check_cross_entropy(logits, labels, options);
  const int64_t n = logits.shape()[0], classes = logits.shape()[1];
  Tensor labels64 = labels.to(DType::i64).contiguous();
  check_labels_in_range(labels64, classes);

  const double s = options.label_smoothing;
  Tensor per_sample = empty({n}, logits.dtype());
  Tensor log_probs = empty({n, classes}, logits.dtype());
  dispatch<OpId::cross_entropy_forward>(logits.dtype())(logits, labels64, s, per_sample, log_probs);

  // The reduction runs on tensors without history; the one node below covers it.
  const Reduction reduction = options.reduction;
  Tensor loss = reduction == Reduction::none  ? per_sample
                : reduction == Reduction::sum ? sum(per_sample)
                                              : sum(per_sample) / static_cast<double>(n);
  if (autograd::should_record({&logits})) {
    autograd::record("cross_entropy", loss, {logits},
                     [log_probs, labels64, s, n, reduction](const TensorBase& g) -> Grads {
                       Tensor gloss = reduction == Reduction::mean ? Tensor(g) / static_cast<double>(n) : Tensor(g);
                       Tensor glogits = empty(log_probs.shape(), log_probs.dtype());
                       dispatch<OpId::cross_entropy_backward>(log_probs.dtype())(
                           log_probs, labels64, broadcast_view(gloss, {n}), s, glogits);
                       return {glogits};
                     });
  }
  return loss;
}

}  // namespace dendrite
