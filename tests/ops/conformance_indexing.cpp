// Conformance entries: embedding, index_select and gather. Indices are drawn from fewer values than
// there are positions, so some repeat and the backward must accumulate.
#include "conformance.h"

namespace dendrite::testing {

DENDRITE_OP_CASES(indexing){
    {.name = "embedding_2d_indices_repeated",
     .inputs = [](CaseGen& g) {
       int64_t rows = g.dim(4, 6), dim = g.dim(1, 4);
       return Inputs{g.normal({rows, dim}), g.indices({2, rows}, rows - 1)};  // 2 * rows draws from rows - 1 values
     },
     .fn = [](const Inputs& in) { return Outputs{embedding(in[0], in[1])}; }},
    {.name = "embedding_1d_i32_indices",
     .inputs = [](CaseGen& g) { return Inputs{g.normal({5, 3}), g.indices({7}, 5, DType::i32)}; },
     .fn = [](const Inputs& in) { return Outputs{embedding(in[0], in[1])}; }},
    {.name = "index_select_axis0_repeated",
     .inputs = [](CaseGen& g) {
       int64_t rows = g.dim(2, 5);
       return Inputs{g.normal({rows, g.dim(1, 4)}), g.indices({rows + 2}, rows)};
     },
     .fn = [](const Inputs& in) { return Outputs{index_select(in[0], 0, in[1])}; }},
    {.name = "index_select_axis1_transposed",
     .inputs = [](CaseGen& g) {
       int64_t cols = g.dim(2, 6);
       return Inputs{g.transposed({g.dim(2, 4), cols}), g.indices({g.dim(1, 7)}, cols)};
     },
     .fn = [](const Inputs& in) { return Outputs{index_select(in[0], 1, in[1])}; }},
    {.name = "gather_axis1",
     .inputs = [](CaseGen& g) {
       int64_t rows = g.dim(2, 4), cols = g.dim(2, 5);
       // Fewer rows than x and more columns than x: both are allowed by torch.gather.
       return Inputs{g.normal({rows, cols}), g.indices({rows - 1, cols + 2}, cols)};
     },
     .fn = [](const Inputs& in) { return Outputs{gather(in[0], 1, in[1])}; }},
    {.name = "gather_axis0_transposed_3d",
     .inputs = [](CaseGen& g) { return Inputs{g.transposed({3, 2, 4}), g.indices({4, 2, 3}, 3)}; },
     .fn = [](const Inputs& in) { return Outputs{gather(in[0], 0, in[1])}; }},
};

}  // namespace dendrite::testing
