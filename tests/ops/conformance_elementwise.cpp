// Conformance entries: elementwise math, with broadcasting and non-contiguous operands.
#include "conformance.h"

namespace dendrite::testing {
namespace {

Inputs pair_same(CaseGen& g) {
  Shape s{g.dim(1, 5), g.dim(1, 6)};
  return {g.normal(s), g.normal(s)};
}
Inputs pair_broadcast(CaseGen& g) {
  int64_t r = g.dim(2, 4), c = g.dim(2, 5);
  return {g.normal({r, 1, c}), g.normal({3, 1})};
}
Inputs pair_transposed(CaseGen& g) {
  Shape s{g.dim(2, 5), g.dim(2, 6)};
  return {g.transposed(s), g.normal(s)};
}
Inputs one_normal(CaseGen& g) { return {g.normal({g.dim(1, 4), g.dim(1, 7)})}; }
Inputs one_transposed(CaseGen& g) { return {g.transposed({g.dim(2, 4), g.dim(2, 7)})}; }
Inputs one_positive(CaseGen& g) { return {g.positive({g.dim(1, 4), g.dim(1, 7)})}; }
Inputs one_kinked(CaseGen& g) { return {g.away_from_zero({g.dim(1, 4), g.dim(1, 7)})}; }

}  // namespace

DENDRITE_OP_CASES(elementwise){
    {.name = "add", .inputs = pair_same, .fn = [](const Inputs& in) { return Outputs{in[0] + in[1]}; }},
    {.name = "add_broadcast", .inputs = pair_broadcast, .fn = [](const Inputs& in) { return Outputs{in[0] + in[1]}; }},
    {.name = "add_transposed",
     .inputs = pair_transposed,
     .fn = [](const Inputs& in) { return Outputs{in[0] + in[1]}; }},
    {.name = "sub_broadcast", .inputs = pair_broadcast, .fn = [](const Inputs& in) { return Outputs{in[0] - in[1]}; }},
    {.name = "mul_broadcast", .inputs = pair_broadcast, .fn = [](const Inputs& in) { return Outputs{in[0] * in[1]}; }},
    {.name = "mul_transposed",
     .inputs = pair_transposed,
     .fn = [](const Inputs& in) { return Outputs{in[0] * in[1]}; }},
    {.name = "div_broadcast",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.normal({3, g.dim(1, 5)}), g.positive({1, 1})};
         },
     .fn = [](const Inputs& in) { return Outputs{in[0] / in[1]}; }},
    {.name = "div_by_scalar", .inputs = one_normal, .fn = [](const Inputs& in) { return Outputs{in[0] / 4.0}; }},
    {.name = "scalar_minus", .inputs = one_normal, .fn = [](const Inputs& in) { return Outputs{2.0 - in[0]}; }},
    {.name = "pow_tensor",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.positive({2, 3}), g.uniform({3}, -1.5, 1.5)};
         },
     .fn = [](const Inputs& in) { return Outputs{pow(in[0], in[1])}; }},
    {.name = "pow_scalar", .inputs = one_positive, .fn = [](const Inputs& in) { return Outputs{in[0].pow(2.5)}; }},
    {.name = "maximum", .inputs = pair_same, .fn = [](const Inputs& in) { return Outputs{maximum(in[0], in[1])}; }},
    {.name = "minimum",
     .inputs = pair_broadcast,
     .fn = [](const Inputs& in) { return Outputs{minimum(in[0], in[1])}; }},
    {.name = "neg", .inputs = one_transposed, .fn = [](const Inputs& in) { return Outputs{-in[0]}; }},
    {.name = "exp", .inputs = one_normal, .fn = [](const Inputs& in) { return Outputs{exp(in[0])}; }},
    {.name = "exp_transposed", .inputs = one_transposed, .fn = [](const Inputs& in) { return Outputs{exp(in[0])}; }},
    {.name = "log", .inputs = one_positive, .fn = [](const Inputs& in) { return Outputs{log(in[0])}; }},
    {.name = "sqrt", .inputs = one_positive, .fn = [](const Inputs& in) { return Outputs{sqrt(in[0])}; }},
    {.name = "rsqrt", .inputs = one_positive, .fn = [](const Inputs& in) { return Outputs{rsqrt(in[0])}; }},
    {.name = "abs", .inputs = one_kinked, .fn = [](const Inputs& in) { return Outputs{abs(in[0])}; }},
    {.name = "relu", .inputs = one_kinked, .fn = [](const Inputs& in) { return Outputs{relu(in[0])}; }},
    // Channels-last operands keep their format (core/memory_format.h) and take the flat loop.
    {.name = "relu_channels_last",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.away_from_zero({2, g.dim(2, 4), g.dim(2, 4), 3}).permute({0, 3, 1, 2})};
         },
     .fn = [](const Inputs& in) { return Outputs{relu(in[0])}; }},
    {.name = "mul_channels_last_and_contiguous",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.channels_last({1, 3, 2, 3}), g.normal({1, 3, 2, 3})};
         },
     .fn =
         [](const Inputs& in) {
           return Outputs{in[0] * in[1], in[0] * in[0]};
         }},
    {.name = "relu_transposed",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.away_from_zero({4, 3}).transpose(0, 1)};
         },
     .fn = [](const Inputs& in) { return Outputs{relu(in[0])}; }},
    {.name = "sigmoid", .inputs = one_normal, .fn = [](const Inputs& in) { return Outputs{sigmoid(in[0])}; }},
    {.name = "tanh", .inputs = one_transposed, .fn = [](const Inputs& in) { return Outputs{tanh(in[0])}; }},
    {.name = "gelu", .inputs = one_normal, .fn = [](const Inputs& in) { return Outputs{gelu(in[0])}; }},
    {.name = "erf", .inputs = one_normal, .fn = [](const Inputs& in) { return Outputs{erf(in[0])}; }},
    {.name = "eq_gt",
     .inputs = pair_broadcast,
     .fn =
         [](const Inputs& in) {
           return Outputs{eq(in[0], in[0]), gt(in[0], in[1])};
         },
     .differentiable = false},
};

DENDRITE_OP_CASES(reduction){
    {.name = "sum_all", .inputs = one_transposed, .fn = [](const Inputs& in) { return Outputs{sum(in[0])}; }},
    {.name = "sum_axis0",
     .inputs = [](CaseGen& g) { return Inputs{g.normal({g.dim(1, 4), g.dim(1, 5), 3})}; },
     .fn = [](const Inputs& in) { return Outputs{sum(in[0], {0})}; }},
    {.name = "sum_axes_keepdim",
     .inputs = [](CaseGen& g) { return Inputs{g.normal({2, g.dim(1, 5), 3})}; },
     .fn = [](const Inputs& in) { return Outputs{sum(in[0], {0, -1}, true)}; }},
    {.name = "mean_axis",
     .inputs = one_transposed,
     .fn = [](const Inputs& in) { return Outputs{mean(in[0], {1})}; }},
    {.name = "max_axis", .inputs = one_normal, .fn = [](const Inputs& in) { return Outputs{max(in[0], {1})}; }},
    {.name = "max_all", .inputs = one_transposed, .fn = [](const Inputs& in) { return Outputs{max(in[0])}; }},
    {.name = "min_axis", .inputs = one_normal, .fn = [](const Inputs& in) { return Outputs{min(in[0], {0}, true)}; }},
    {.name = "argmax",
     .inputs = one_transposed,
     .fn = [](const Inputs& in) { return Outputs{argmax(in[0], 1), argmax(in[0], 0, true)}; },
     .differentiable = false},
};

DENDRITE_OP_CASES(linalg){
    {.name = "matmul_2d",
     .inputs = [](CaseGen& g) {
       int64_t m = g.dim(1, 6), k = g.dim(1, 7), n = g.dim(1, 5);
       return Inputs{g.normal({m, k}), g.normal({k, n})};
     },
     .fn = [](const Inputs& in) { return Outputs{matmul(in[0], in[1])}; }},
    {.name = "matmul_transposed_operands",
     .inputs = [](CaseGen& g) {
       int64_t m = g.dim(2, 6), k = g.dim(2, 7), n = g.dim(2, 5);
       return Inputs{g.transposed({m, k}), g.transposed({k, n})};
     },
     .fn = [](const Inputs& in) { return Outputs{matmul(in[0], in[1])}; }},
    {.name = "matmul_batched_broadcast",
     .inputs = [](CaseGen& g) {
       int64_t m = g.dim(1, 4), k = g.dim(1, 5), n = g.dim(1, 4);
       return Inputs{g.normal({2, 1, m, k}), g.normal({3, k, n})};
     },
     .fn = [](const Inputs& in) { return Outputs{matmul(in[0], in[1])}; }},
    // A Transformer's per-head products on split-heads views: two batch axes that do not merge
    // (the cpu kernel hands both to one oneDNN call), and three with a broadcast one.
    {.name = "matmul_split_heads_views",
     .inputs = [](CaseGen& g) {
       int64_t b = g.dim(1, 3), l = g.dim(1, 4), s = g.dim(1, 4);
       return Inputs{g.normal({b, l, 6}), g.normal({b, s, 6}), g.normal({b, s, 6}), g.normal({2, 1, 3, l, 4})};
     },
     .fn = [](const Inputs& in) {
       auto heads = [](const Tensor& x) { return x.reshape({x.size(0), x.size(1), 3, 2}).transpose(1, 2); };
       Tensor scores = matmul(heads(in[0]), heads(in[1]).transpose(-1, -2));  // [b, 3, l, s]
       Tensor mixed = matmul(scores, heads(in[2]));                           // [b, 3, l, 2]
       Tensor broadcast = matmul(in[3], in[3].select(1, 0).transpose(-1, -2).unsqueeze(1).expand({2, 2, 3, 4, in[3].size(3)}));
       return Outputs{scores, mixed, broadcast};
     }},
    {.name = "matmul_vector",
     .inputs = [](CaseGen& g) {
       int64_t k = g.dim(1, 6);
       return Inputs{g.normal({k}), g.normal({k, 3}), g.normal({k})};
     },
     .fn = [](const Inputs& in) { return Outputs{matmul(in[0], in[1]), matmul(in[1].t(), in[2])}; }},
    {.name = "linear_bias",
     .inputs = [](CaseGen& g) {
       int64_t b = g.dim(1, 5), i = g.dim(1, 6), o = g.dim(1, 4);
       return Inputs{g.normal({b, i}), g.normal({o, i}), g.normal({o})};
     },
     .fn = [](const Inputs& in) { return Outputs{linear(in[0], in[1], in[2])}; }},
    {.name = "linear_3d_no_bias",
     .inputs = [](CaseGen& g) { return Inputs{g.normal({2, 3, 4}), g.normal({5, 4})}; },
     .fn = [](const Inputs& in) { return Outputs{linear(in[0], in[1])}; }},
};

DENDRITE_OP_CASES(views){
    {.name = "reshape_transposed",
     .inputs = [](CaseGen& g) { return Inputs{g.transposed({3, 4})}; },
     .fn = [](const Inputs& in) { return Outputs{in[0].reshape({2, -1}) * 2.0}; }},
    {.name = "permute",
     .inputs = [](CaseGen& g) { return Inputs{g.normal({2, 3, 4})}; },
     .fn = [](const Inputs& in) { return Outputs{in[0].permute({2, 0, 1}).contiguous()}; }},
    {.name = "slice_step",
     .inputs = [](CaseGen& g) { return Inputs{g.normal({7, 3})}; },
     .fn = [](const Inputs& in) { return Outputs{in[0].slice(0, 1, 6, 2), in[0].select(1, -1)}; }},
    {.name = "expand_squeeze",
     .inputs = [](CaseGen& g) { return Inputs{g.normal({3, 1})}; },
     .fn = [](const Inputs& in) { return Outputs{in[0].expand({2, 3, 4}) * 1.0, in[0].squeeze().unsqueeze(0)}; }},
    {.name = "flatten_to_dtype",
     .inputs = [](CaseGen& g) { return Inputs{g.normal({2, 3, 2})}; },
     .fn = [](const Inputs& in) { return Outputs{in[0].flatten(1).to(DType::f64).to(in[0].dtype())}; }},
};

}  // namespace dendrite::testing
