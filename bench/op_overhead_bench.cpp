// What one op costs beyond its arithmetic, at the sizes of batch-1 inference and a decoder step
// (W5, W7): a ReLU, an add and a Linear on one row, no gradients, one thread. The W5 MLP is three
// Linear and two ReLU calls; its latency minus its weight-read floor is this overhead.
//
//   ./op_overhead_bench [--benchmark_* flags]
#include <benchmark/benchmark.h>

#include "dendrite/dendrite.h"

namespace dd = dendrite;

namespace {

void relu_row(benchmark::State& state) {
  dd::ScopedThreads threads(1);
  dd::autograd::NoGradGuard no_grad;
  dd::Generator gen(1);
  dd::Tensor x = dd::randn({1, state.range(0)}, dd::DType::f32, gen);
  for (auto _ : state) {
    dd::Tensor y = dd::relu(x);
    benchmark::DoNotOptimize(y.raw_data());
  }
}

void add_row(benchmark::State& state) {
  dd::ScopedThreads threads(1);
  dd::autograd::NoGradGuard no_grad;
  dd::Generator gen(1);
  dd::Tensor a = dd::randn({1, state.range(0)}, dd::DType::f32, gen),
             b = dd::randn({1, state.range(0)}, dd::DType::f32, gen);
  for (auto _ : state) {
    dd::Tensor y = dd::add(a, b);
    benchmark::DoNotOptimize(y.raw_data());
  }
}

// A one-row Linear with a tiny weight: [1, 16] x [16, 16]^T + bias, so the product is nothing and
// the time is the op's.
void linear_row(benchmark::State& state) {
  dd::ScopedThreads threads(1);
  dd::autograd::NoGradGuard no_grad;
  dd::Generator gen(1);
  dd::Tensor x = dd::randn({1, 16}, dd::DType::f32, gen), w = dd::randn({16, 16}, dd::DType::f32, gen);
  dd::Tensor b = dd::randn({16}, dd::DType::f32, gen);
  for (auto _ : state) {
    dd::Tensor y = dd::linear(x, w, b);
    benchmark::DoNotOptimize(y.raw_data());
  }
}

}  // namespace

BENCHMARK(relu_row)->Arg(16)->Arg(512)->Unit(benchmark::kNanosecond);
BENCHMARK(add_row)->Arg(16)->Arg(512)->Unit(benchmark::kNanosecond);
BENCHMARK(linear_row)->Unit(benchmark::kNanosecond);

BENCHMARK_MAIN();
