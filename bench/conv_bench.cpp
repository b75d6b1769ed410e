// 3x3 convolutions through the public API, three ways: a forward that records a backward (oneDNN's
// direct convolution, as in training), inference with the weights transformed per call, and
// inference with frozen weights transformed once (both Winograd F(4x4, 3x3) in the cpu backend,
// kernels/cpu/winograd_conv.h, from 8 output tiles). Shapes: W5's second layer (32 -> 64 channels,
// 13x13 in, 11x11 out) at batch 1 and 64, and a padded 64 -> 64 layer at 28x28 with batch 1 and 8.
// Activations channels-last, as our convnets keep them.
//
//   OMP_NUM_THREADS=1 build/bench/conv_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include "dendrite/dendrite.h"
#include "dendrite/nn/frozen_parameters.h"

namespace {

using namespace dendrite;

enum Mode : int64_t { kRecording = 0, kInference = 1, kFrozen = 2 };

// args: batch, in channels, out channels, side, padding, mode
void BM_conv3x3(benchmark::State& state) {
  const int64_t N = state.range(0), C = state.range(1), O = state.range(2), side = state.range(3);
  const int64_t pad = state.range(4);
  const auto mode = static_cast<Mode>(state.range(5));
  nn::Conv2d layer(C, O, 3, nn::Conv2dOptions{.padding = pad});
  Generator gen(1);
  Tensor x = randn({N, side, side, C}, DType::f32, gen).permute({0, 3, 1, 2});  // channels-last
  std::optional<autograd::NoGradGuard> no_grad;
  std::optional<nn::FrozenParameters> declared;
  if (mode == kRecording) x.requires_grad_();
  if (mode != kRecording) no_grad.emplace();
  if (mode == kFrozen) declared.emplace(layer);
  for (auto _ : state) benchmark::DoNotOptimize(layer(x));
  const int64_t out = side + 2 * pad - 2;
  state.counters["GFLOP/s"] =
      benchmark::Counter(static_cast<double>(2 * N * C * O * 9 * out * out),
                         benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.SetLabel(mode == kRecording ? "recording forward (oneDNN direct)"
                 : mode == kFrozen  ? "inference, frozen (Winograd, weights transformed once)"
                                    : "inference (Winograd from 8 tiles, weights transformed per call)");
}
BENCHMARK(BM_conv3x3)
    ->ArgNames({"N", "C", "O", "side", "pad", "mode"})
    ->ArgsProduct({{1, 64}, {32}, {64}, {13}, {0}, {kRecording, kInference, kFrozen}})
    ->ArgsProduct({{1, 8}, {64}, {64}, {28}, {1}, {kRecording, kInference, kFrozen}});

}  // namespace

BENCHMARK_MAIN();
