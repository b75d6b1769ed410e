// Conformance entries: additive attention's fused scores, on dense, transposed and broadcast keys.
#include "conformance.h"

namespace dendrite::testing {

DENDRITE_OP_CASES(attention){
    {.name = "additive_attention_scores",
     .inputs =
         [](CaseGen& g) {
           int64_t b = g.dim(1, 3), s = g.dim(1, 4), a = g.dim(1, 5);
           return Inputs{g.normal({b, s, a}), g.normal({b, a}), g.normal({a})};
         },
     .fn = [](const Inputs& in) { return Outputs{additive_attention_scores(in[0], in[1], in[2])}; }},
    {.name = "additive_attention_scores_transposed",
     .inputs =
         [](CaseGen& g) {
           int64_t b = g.dim(1, 3), s = g.dim(2, 4), a = g.dim(2, 4);
           return Inputs{g.transposed({b, s, a}), g.transposed({b, a}), g.normal({a})};
         },
     .fn = [](const Inputs& in) { return Outputs{additive_attention_scores(in[0], in[1], in[2])}; }},
    {.name = "additive_attention_scores_broadcast_keys",
     // One source's keys shared by every row (stride 0 along the batch), as beam search expands them.
     .inputs =
         [](CaseGen& g) {
           int64_t b = g.dim(2, 3), s = g.dim(1, 3), a = g.dim(1, 4);
           return Inputs{g.normal({1, s, a}), g.normal({b, a}), g.normal({a})};
         },
     .fn =
         [](const Inputs& in) {
           const Tensor keys = in[0].expand({in[1].size(0), in[0].size(1), in[0].size(2)});
           return Outputs{additive_attention_scores(keys, in[1], in[2])};
         }},
    {.name = "additive_attention_scores_wide",
     // Enough rows and width for the cpu kernel's threads and vector loops.
     .inputs =
         [](CaseGen& g) {
           int64_t b = g.dim(8, 12), s = g.dim(20, 30), a = g.dim(130, 160);
           return Inputs{g.normal({b, s, a}), g.normal({b, a}), g.normal({a}, 0.2)};
         },
     .fn = [](const Inputs& in) { return Outputs{additive_attention_scores(in[0], in[1], in[2])}; },
     .gradcheck = false,
     .trials = 1},
};

}  // namespace dendrite::testing
