// Layer normalisation at g2p-transformer's shape (batch 128, 10 positions, width 128, normalised
// over the width), as its kernels compute it against the composite of broadcast ops that
// layer_norm was before them:
//   composed  centered = x - mean(x); var = mean(centered^2); centered * rsqrt(var + eps) * w + b
//   fused     layer_norm(x, {width}, w, b)
// *_train: forward and backward (the gradients of x, w and b); *_infer: forward under
// NoGradGuard. The argument is the thread count.
//
//   ./layer_norm_bench [--benchmark_filter=train] [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>

#include "dendrite/dendrite.h"

namespace dd = dendrite;

namespace {

constexpr int64_t kBatch = 128, kLength = 10, kWidth = 128;

struct Operands {
  dd::Tensor x, w, b, grad;
};

Operands operands(bool requires_grad) {
  dd::Generator gen(1);
  Operands o{dd::randn({kBatch, kLength, kWidth}, dd::DType::f32, gen), dd::randn({kWidth}, dd::DType::f32, gen),
             dd::randn({kWidth}, dd::DType::f32, gen), dd::randn({kBatch, kLength, kWidth}, dd::DType::f32, gen)};
  if (requires_grad) {
    o.x.requires_grad_();
    o.w.requires_grad_();
    o.b.requires_grad_();
  }
  return o;
}

dd::Tensor composed(const Operands& o) {
  dd::Tensor centered = o.x - dd::mean(o.x, {2}, true);
  dd::Tensor var = dd::mean(centered * centered, {2}, true);
  return centered * dd::rsqrt(var + 1e-5) * o.w + o.b;
}

dd::Tensor fused(const Operands& o) { return dd::layer_norm(o.x, {kWidth}, o.w, o.b); }

template <dd::Tensor (*Norm)(const Operands&)>
void train(benchmark::State& state) {
  dd::ScopedThreads threads(static_cast<int>(state.range(0)));
  const Operands o = operands(true);
  for (auto _ : state) {
    dd::sum(Norm(o) * o.grad).backward();
    for (const dd::Tensor& t : {o.x, o.w, o.b}) t.set_grad({});
  }
}

template <dd::Tensor (*Norm)(const Operands&)>
void infer(benchmark::State& state) {
  dd::ScopedThreads threads(static_cast<int>(state.range(0)));
  const Operands o = operands(false);
  dd::autograd::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(Norm(o));
}

}  // namespace

BENCHMARK(train<composed>)->Name("composed_train")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(train<fused>)->Name("fused_train")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(infer<composed>)->Name("composed_infer")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(infer<fused>)->Name("fused_infer")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
