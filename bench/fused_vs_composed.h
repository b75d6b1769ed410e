// The two timings that every fused-op benchmark makes, for an op computed both ways (the fused op
// and the composite of primitives it replaced):
//   train<O, Fn>  forward and backward (sum(Fn(o) * o.grad)), the gradients of o.inputs() cleared
//                 after each iteration, as in a training step;
//   infer<O, Fn>  forward under NoGradGuard, as in decoding.
// O provides `static O make(bool requires_grad)`, `std::vector<Tensor> inputs() const` and a
// `grad` tensor shaped like Fn's output. The benchmark's argument is the thread count.
#pragma once

#include <benchmark/benchmark.h>

#include "dendrite/dendrite.h"

namespace fused_bench {

template <typename O, dendrite::Tensor (*Fn)(const O&)>
void train(benchmark::State& state) {
  dendrite::ScopedThreads threads(static_cast<int>(state.range(0)));
  const O o = O::make(true);
  for (auto _ : state) {
    dendrite::sum(Fn(o) * o.grad).backward();
    for (const dendrite::Tensor& t : o.inputs()) t.set_grad({});
  }
}

template <typename O, dendrite::Tensor (*Fn)(const O&)>
void infer(benchmark::State& state) {
  dendrite::ScopedThreads threads(static_cast<int>(state.range(0)));
  const O o = O::make(false);
  dendrite::autograd::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(Fn(o));
}

// Registers composed_train, fused_train, composed_infer and fused_infer at 1 and 2 threads; call
// once at namespace scope (`const int registered = fused_bench::register_all<O, composed, fused>();`).
template <typename O, dendrite::Tensor (*Composed)(const O&), dendrite::Tensor (*Fused)(const O&)>
int register_all() {
  auto setup = [](benchmark::internal::Benchmark* b) {
    b->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
  };
  setup(benchmark::RegisterBenchmark("composed_train", train<O, Composed>));
  setup(benchmark::RegisterBenchmark("fused_train", train<O, Fused>));
  setup(benchmark::RegisterBenchmark("composed_infer", infer<O, Composed>));
  setup(benchmark::RegisterBenchmark("fused_infer", infer<O, Fused>));
  return 0;
}

}  // namespace fused_bench
