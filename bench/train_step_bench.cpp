// One training step of W1's MLP (784-512-512-10, ReLU, cross-entropy, SGD momentum 0.9) and of
// W2's CNN (Adam) on fixed random batches, in a tight loop: the step's parts and its scaling from
// 1 to 2 threads without the data pipeline around it (dendrite bench times W1/W2 with it).
//
//   forward_backward/rows/threads  forward, loss and backward of `rows` examples
//   step/rows/threads              the whole step: zero_grad, forward and backward, SGD step
//   cnn_step/rows/threads          the same for W2's CNN with Adam
//   sgd_step/threads               the optimiser's update of the 669,706 parameters alone, its
//                                  operands in cache (in a real step they are not)
//
// The machine's timings drift by tens of percent over minutes, so compare within one run with
// interleaved repetitions:
//   ./train_step_bench --benchmark_repetitions=8 --benchmark_enable_random_interleaving=true
//                      --benchmark_min_time=0.3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include "dendrite/dendrite.h"

namespace dd = dendrite;

namespace {

dd::nn::Sequential mlp() {
  dd::manual_seed(1);
  return dd::nn::Sequential(dd::nn::Linear(784, 512), dd::nn::ReLU(), dd::nn::Linear(512, 512), dd::nn::ReLU(),
                            dd::nn::Linear(512, 10));
}

// W2's CNN on [N, 1, 28, 28] inputs.
dd::nn::Sequential cnn() {
  dd::manual_seed(1);
  // clang-format off
  return dd::nn::Sequential{dd::nn::Conv2d(1, 32, 3), dd::nn::ReLU(), dd::nn::MaxPool2d(2),
                            dd::nn::Conv2d(32, 64, 3), dd::nn::ReLU(), dd::nn::MaxPool2d(2),
                            dd::nn::Flatten(), dd::nn::Linear(1600, 128), dd::nn::ReLU(), dd::nn::Linear(128, 10)};
  // clang-format on
}

// Times steps on one fixed random batch of state.range(0) examples of shape `example`, with
// state.range(1) threads: zero_grad, forward, cross-entropy, backward and, given an optimiser, its
// step.
void time_steps(benchmark::State& state, dd::nn::Module& net, dd::optim::Optimizer* opt, const dd::Shape& example) {
  const int64_t rows = state.range(0);
  dd::ScopedThreads threads(static_cast<int>(state.range(1)));
  dd::Shape shape{rows};
  shape.insert(shape.end(), example.begin(), example.end());
  dd::Generator gen(2);
  const dd::Tensor x = dd::rand(shape, dd::DType::f32, gen);
  const dd::Tensor y = dd::randint(0, 10, {rows}, dd::DType::i64, gen);
  for (auto _ : state) {
    net.zero_grad();
    dd::Tensor loss = dd::nn::cross_entropy(net(x), y);
    loss.backward();
    benchmark::DoNotOptimize(loss.item<double>());
    if (opt != nullptr) opt->step();
  }
  state.SetItemsProcessed(state.iterations() * rows);
}

void forward_backward(benchmark::State& state) {
  dd::nn::Sequential net = mlp();
  time_steps(state, net, nullptr, {784});
}

// The whole step as the Trainer takes it.
void step(benchmark::State& state) {
  dd::nn::Sequential net = mlp();
  dd::optim::SGD opt(net.named_parameters(), {.lr = 0.05, .momentum = 0.9});
  time_steps(state, net, &opt, {784});
}

// W2's step: the CNN with Adam.
void cnn_step(benchmark::State& state) {
  dd::nn::Sequential net = cnn();
  dd::optim::Adam opt(net.named_parameters(), {.lr = 1e-3});
  time_steps(state, net, &opt, {1, 28, 28});
}

void sgd_step(benchmark::State& state) {
  dd::ScopedThreads threads(static_cast<int>(state.range(0)));
  dd::nn::Sequential net = mlp();
  dd::optim::SGD opt(net.named_parameters(), {.lr = 0.05, .momentum = 0.9});
  dd::Generator gen(3);
  for (const dd::Tensor& p : net.parameters()) p.set_grad(dd::randn(p.shape(), dd::DType::f32, gen));
  for (auto _ : state) opt.step();
}

}  // namespace

// W1 at its batch of 128 on 1 and 2 threads, and half the batch on 1 thread (one thread's share).
void w1_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"rows", "threads"})->Args({128, 1})->Args({64, 1})->Args({128, 2});
  b->Unit(benchmark::kMicrosecond)->UseRealTime();
}

BENCHMARK(forward_backward)->Apply(w1_args);
BENCHMARK(step)->Apply(w1_args);
BENCHMARK(cnn_step)
    ->ArgNames({"rows", "threads"})
    ->Args({64, 1})
    ->Args({64, 2})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(sgd_step)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();

BENCHMARK_MAIN();
