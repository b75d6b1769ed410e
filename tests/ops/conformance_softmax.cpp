// Conformance entries: softmax, log-softmax and the fused cross-entropy, on both axes of
// non-contiguous inputs and with every reduction.
#include "conformance.h"

namespace dendrite::testing {
namespace {

Inputs one_transposed(CaseGen& g) { return {g.transposed({g.dim(2, 5), g.dim(2, 7)})}; }

// logits [N, C] and labels [N] in [0, C).
Inputs logits_labels(CaseGen& g, DType label_dtype = DType::i64) {
  int64_t n = g.dim(1, 6), c = g.dim(2, 7);
  Tensor logits = g.normal({n, c}, 2.0);
  return {logits, g.indices({n}, c, label_dtype)};
}

Outputs cross_entropy_with(const Inputs& in, Reduction reduction, double smoothing) {
  return {cross_entropy(in[0], in[1], {.reduction = reduction, .label_smoothing = smoothing})};
}

}  // namespace

DENDRITE_OP_CASES(softmax){
    {.name = "softmax_last_axis_transposed",
     .inputs = one_transposed,
     .fn = [](const Inputs& in) { return Outputs{softmax(in[0], -1)}; }},
    {.name = "softmax_axis0_transposed",
     .inputs = one_transposed,
     .fn = [](const Inputs& in) { return Outputs{softmax(in[0], 0)}; }},
    {.name = "softmax_middle_axis_3d",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.normal({2, g.dim(1, 4), 3}, 3.0)};
         },
     .fn = [](const Inputs& in) { return Outputs{softmax(in[0], 1)}; }},
    {.name = "log_softmax_last_axis_transposed",
     .inputs = one_transposed,
     .fn = [](const Inputs& in) { return Outputs{log_softmax(in[0], -1)}; }},
    {.name = "log_softmax_axis0_transposed",
     .inputs = one_transposed,
     .fn = [](const Inputs& in) { return Outputs{log_softmax(in[0], 0)}; }},
    {.name = "cross_entropy_mean",
     .inputs = [](CaseGen& g) { return logits_labels(g); },
     .fn = [](const Inputs& in) { return cross_entropy_with(in, Reduction::mean, 0.0); }},
    {.name = "cross_entropy_mean_smoothing",
     .inputs = [](CaseGen& g) { return logits_labels(g); },
     .fn = [](const Inputs& in) { return cross_entropy_with(in, Reduction::mean, 0.1); }},
    {.name = "cross_entropy_sum_smoothing_i32_labels",
     .inputs = [](CaseGen& g) { return logits_labels(g, DType::i32); },
     .fn = [](const Inputs& in) { return cross_entropy_with(in, Reduction::sum, 0.1); }},
    {.name = "cross_entropy_none_smoothing_transposed",
     .inputs =
         [](CaseGen& g) {
           int64_t n = g.dim(2, 6), c = g.dim(2, 7);
           Tensor logits = g.transposed({n, c});
           return Inputs{logits, g.indices({n}, c)};
         },
     .fn = [](const Inputs& in) { return cross_entropy_with(in, Reduction::none, 0.1); }},
    // Enough rows for the cpu kernel to split them across threads, 45 classes (W3's: not a multiple
    // of the vector width) and logits near 40, where exp overflows without the shift by the maximum.
    {.name = "cross_entropy_many_rows_large_logits",
     .inputs =
         [](CaseGen& g) {
           const int64_t n = 1500, c = 45;
           return Inputs{g.normal({n, c}, 3.0) + 40.0, g.indices({n}, c)};
         },
     .fn = [](const Inputs& in) { return cross_entropy_with(in, Reduction::mean, 0.1); },
     .gradcheck = false},
};

}  // namespace dendrite::testing
