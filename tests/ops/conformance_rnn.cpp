// Conformance entries: the recurrent cells' fused pointwise ops and the whole cells.
#include "conformance.h"

namespace dendrite::testing {
namespace {

Outputs lstm_outputs(const LstmState& s) { return {s.h, s.c}; }

}  // namespace

DENDRITE_OP_CASES(rnn){
    {.name = "lstm_pointwise",
     .inputs =
         [](CaseGen& g) {
           int64_t b = g.dim(1, 4), h = g.dim(1, 5);
           return Inputs{g.normal({b, 4 * h}, 1.5), g.normal({b, h})};
         },
     .fn = [](const Inputs& in) { return lstm_outputs(lstm_pointwise(in[0], in[1])); }},
    {.name = "lstm_pointwise_transposed",
     .inputs =
         [](CaseGen& g) {
           int64_t b = g.dim(2, 4), h = g.dim(1, 3);
           return Inputs{g.transposed({b, 4 * h}), g.transposed({b, h})};
         },
     .fn = [](const Inputs& in) { return lstm_outputs(lstm_pointwise(in[0], in[1])); }},
    {.name = "lstm_cell",
     .inputs =
         [](CaseGen& g) {
           int64_t b = g.dim(1, 3), i = g.dim(1, 4), h = g.dim(1, 4);
           return Inputs{g.normal({b, i}),          g.normal({b, h}),  g.normal({b, h}), g.normal({4 * h, i}, 0.5),
                         g.normal({4 * h, h}, 0.5), g.normal({4 * h}), g.normal({4 * h})};
         },
     .fn =
         [](const Inputs& in) {
           LstmState s = lstm_cell(in[0], {in[1], in[2]}, in[3], in[4], in[5], in[6]);
           // A second step feeds the first one's state back, as a sequence does.
           LstmState s2 = lstm_cell(in[0] * 0.5, s, in[3], in[4], in[5], in[6]);
           return Outputs{s.h, s.c, s2.h, s2.c};
         }},
    {.name = "lstm_cell_no_bias",
     .inputs =
         [](CaseGen& g) {
           int64_t b = g.dim(1, 3), h = g.dim(1, 3);
           return Inputs{g.normal({b, 3}), g.normal({b, h}), g.normal({b, h}), g.transposed({4 * h, 3}),
                         g.normal({4 * h, h}, 0.5)};
         },
     .fn =
         [](const Inputs& in) {
           return lstm_outputs(lstm_cell(in[0], {in[1], in[2]}, in[3], in[4]));
         }},
    {.name = "gru_pointwise",
     .inputs =
         [](CaseGen& g) {
           int64_t b = g.dim(1, 4), h = g.dim(1, 5);
           return Inputs{g.normal({b, 3 * h}), g.normal({b, 3 * h}), g.normal({b, h})};
         },
     .fn = [](const Inputs& in) { return Outputs{gru_pointwise(in[0], in[1], in[2])}; }},
    {.name = "gru_pointwise_transposed",
     .inputs =
         [](CaseGen& g) {
           int64_t b = g.dim(2, 4), h = g.dim(1, 3);
           return Inputs{g.transposed({b, 3 * h}), g.normal({b, 3 * h}), g.transposed({b, h})};
         },
     .fn = [](const Inputs& in) { return Outputs{gru_pointwise(in[0], in[1], in[2])}; }},
    {.name = "gru_cell",
     .inputs =
         [](CaseGen& g) {
           int64_t b = g.dim(1, 3), i = g.dim(1, 4), h = g.dim(1, 4);
           return Inputs{g.normal({b, i}),          g.normal({b, h}),  g.normal({3 * h, i}, 0.5),
                         g.normal({3 * h, h}, 0.5), g.normal({3 * h}), g.normal({3 * h})};
         },
     .fn =
         [](const Inputs& in) {
           Tensor h1 = gru_cell(in[0], in[1], in[2], in[3], in[4], in[5]);
           Tensor h2 = gru_cell(in[0] * -0.5, h1, in[2], in[3], in[4], in[5]);
           return Outputs{h1, h2};
         }},
};

}  // namespace dendrite::testing
