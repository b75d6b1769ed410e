// Additive (Bahdanau) attention scores, one decoder step of g2p-lstm's shape (batch 128, 12 source
// positions, attention width 256): the fused additive_attention_scores op against the same scores
// composed from primitives, as nn::AdditiveAttention computed them before the fused op:
//   composed  tanh(keys + query.unsqueeze(1)), then linear(hidden, v[1, A]).squeeze(-1)
//   fused     additive_attention_scores(keys, query, v)
// *_train: forward and backward (the gradients of keys, query and v), as in training;
// *_infer: forward under NoGradGuard, as in beam search. The argument is the thread count.
//
//   ./attention_bench [--benchmark_filter=train] [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>

#include "dendrite/dendrite.h"

namespace dd = dendrite;

namespace {

constexpr int64_t kBatch = 128, kSource = 12, kWidth = 256;

struct Operands {
  dd::Tensor keys, query, v, grad;
};

Operands operands(bool requires_grad) {
  dd::Generator gen(1);
  Operands o{dd::randn({kBatch, kSource, kWidth}, dd::DType::f32, gen),
             dd::randn({kBatch, kWidth}, dd::DType::f32, gen), dd::randn({1, kWidth}, dd::DType::f32, gen),
             dd::randn({kBatch, kSource}, dd::DType::f32, gen)};
  if (requires_grad) {
    o.keys.requires_grad_();
    o.query.requires_grad_();
    o.v.requires_grad_();
  }
  return o;
}

dd::Tensor composed(const Operands& o) { return dd::linear(dd::tanh(o.keys + o.query.unsqueeze(1)), o.v).squeeze(-1); }

dd::Tensor fused(const Operands& o) { return dd::additive_attention_scores(o.keys, o.query, o.v.reshape({kWidth})); }

template <dd::Tensor (*Scores)(const Operands&)>
void train(benchmark::State& state) {
  dd::ScopedThreads threads(static_cast<int>(state.range(0)));
  const Operands o = operands(true);
  for (auto _ : state) {
    dd::sum(Scores(o) * o.grad).backward();
    for (const dd::Tensor& t : {o.keys, o.query, o.v}) t.set_grad({});
  }
}

template <dd::Tensor (*Scores)(const Operands&)>
void infer(benchmark::State& state) {
  dd::ScopedThreads threads(static_cast<int>(state.range(0)));
  const Operands o = operands(false);
  dd::autograd::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(Scores(o));
}

}  // namespace

BENCHMARK(train<composed>)->Name("composed_train")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(train<fused>)->Name("fused_train")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(infer<composed>)->Name("composed_infer")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(infer<fused>)->Name("fused_infer")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
