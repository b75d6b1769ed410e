// Additive (Bahdanau) attention scores, one decoder step of g2p-lstm's shape (batch 128, 12 source
// positions, attention width 256): the fused additive_attention_scores op against the same scores
// composed from primitives, as nn::AdditiveAttention computed them before the fused op:
//   composed  tanh(keys + query.unsqueeze(1)), then linear(hidden, v[1, A]).squeeze(-1)
//   fused     additive_attention_scores(keys, query, v)
// *_train: forward and backward (the gradients of keys, query and v), as in training;
// *_infer: forward under NoGradGuard, as in beam search. The argument is the thread count.
//
//   ./attention_bench [--benchmark_filter=train] [--benchmark_repetitions=5]
#include "fused_vs_composed.h"

namespace dd = dendrite;

namespace {

constexpr int64_t kBatch = 128, kSource = 12, kWidth = 256;

struct Operands {
  dd::Tensor keys, query, v, grad;

  static Operands make(bool requires_grad) {
    dd::Generator gen(1);
    Operands o{dd::randn({kBatch, kSource, kWidth}, dd::DType::f32, gen),
               dd::randn({kBatch, kWidth}, dd::DType::f32, gen), dd::randn({1, kWidth}, dd::DType::f32, gen),
               dd::randn({kBatch, kSource}, dd::DType::f32, gen)};
    if (requires_grad)
      for (dd::Tensor t : o.inputs()) t.requires_grad_();
    return o;
  }
  std::vector<dd::Tensor> inputs() const { return {keys, query, v}; }
};

dd::Tensor composed(const Operands& o) { return dd::linear(dd::tanh(o.keys + o.query.unsqueeze(1)), o.v).squeeze(-1); }

dd::Tensor fused(const Operands& o) { return dd::additive_attention_scores(o.keys, o.query, o.v.reshape({kWidth})); }

const int registered = fused_bench::register_all<Operands, composed, fused>();

}  // namespace

BENCHMARK_MAIN();
