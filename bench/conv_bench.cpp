// Inference 3x3 convolutions through the public API, with and without frozen weights: frozen, the
// cpu backend runs Winograd F(4x4, 3x3) (kernels/cpu/winograd_conv.h); unfrozen, oneDNN's direct
// convolution. Shapes: W5's second layer (batch 1, 32 -> 64 channels, 13x13 in, 11x11 out), and a
// padded 64 -> 64 layer at 28x28 with batch 1 and 8. Activations channels-last, as our convnets
// keep them.
//
//   OMP_NUM_THREADS=1 build/bench/conv_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include "dendrite/dendrite.h"
#include "dendrite/nn/frozen_parameters.h"

namespace {

using namespace dendrite;

// args: batch, in channels, out channels, side, padding, frozen
void BM_conv3x3_inference(benchmark::State& state) {
  const int64_t N = state.range(0), C = state.range(1), O = state.range(2), side = state.range(3);
  const int64_t pad = state.range(4);
  const bool frozen = state.range(5) != 0;
  nn::Conv2d layer(C, O, 3, nn::Conv2dOptions{.padding = pad});
  Generator gen(1);
  const Tensor x = randn({N, side, side, C}, DType::f32, gen).permute({0, 3, 1, 2});  // channels-last
  const autograd::NoGradGuard no_grad;
  std::optional<nn::FrozenParameters> declared;
  if (frozen) declared.emplace(layer);
  for (auto _ : state) benchmark::DoNotOptimize(layer(x));
  const int64_t out = side + 2 * pad - 2;
  state.counters["GFLOP/s"] =
      benchmark::Counter(static_cast<double>(2 * N * C * O * 9 * out * out),
                         benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.SetLabel(frozen ? "frozen (Winograd)" : "direct (oneDNN)");
}
BENCHMARK(BM_conv3x3_inference)
    ->ArgNames({"N", "C", "O", "side", "pad", "frozen"})
    ->Args({1, 32, 64, 13, 0, 0})
    ->Args({1, 32, 64, 13, 0, 1})
    ->Args({64, 32, 64, 13, 0, 0})
    ->Args({1, 64, 64, 28, 1, 0})
    ->Args({1, 64, 64, 28, 1, 1})
    ->Args({8, 64, 64, 28, 1, 0})
    ->Args({8, 64, 64, 28, 1, 1});

}  // namespace

BENCHMARK_MAIN();
