// Layer normalisation at g2p-transformer's shape (batch 128, 10 positions, width 128, normalised
// over the width), as its kernels compute it against the composite of broadcast ops that
// layer_norm was before them:
//   composed  centered = x - mean(x); var = mean(centered^2); centered * rsqrt(var + eps) * w + b
//   fused     layer_norm(x, {width}, w, b)
// *_train: forward and backward (the gradients of x, w and b); *_infer: forward under
// NoGradGuard. The argument is the thread count.
//
//   ./layer_norm_bench [--benchmark_filter=train] [--benchmark_repetitions=5]
#include "fused_vs_composed.h"

namespace dd = dendrite;

namespace {

constexpr int64_t kBatch = 128, kLength = 10, kWidth = 128;

struct Operands {
  dd::Tensor x, w, b, grad;

  static Operands make(bool requires_grad) {
    dd::Generator gen(1);
    Operands o{dd::randn({kBatch, kLength, kWidth}, dd::DType::f32, gen), dd::randn({kWidth}, dd::DType::f32, gen),
               dd::randn({kWidth}, dd::DType::f32, gen), dd::randn({kBatch, kLength, kWidth}, dd::DType::f32, gen)};
    if (requires_grad)
      for (dd::Tensor t : o.inputs()) t.requires_grad_();
    return o;
  }
  std::vector<dd::Tensor> inputs() const { return {x, w, b}; }
};

dd::Tensor composed(const Operands& o) {
  dd::Tensor centered = o.x - dd::mean(o.x, {2}, true);
  dd::Tensor var = dd::mean(centered * centered, {2}, true);
  return centered * dd::rsqrt(var + 1e-5) * o.w + o.b;
}

dd::Tensor fused(const Operands& o) { return dd::layer_norm(o.x, {kWidth}, o.w, o.b); }

const int registered = fused_bench::register_all<Operands, composed, fused>();

}  // namespace

BENCHMARK_MAIN();
