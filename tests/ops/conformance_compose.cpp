// Conformance entries: joining and splitting, normalisation and dropout (the composite ops).
#include "conformance.h"

namespace dendrite::testing {
namespace {

// The weighted loss already gives each output element its own weight; the distinct scales make a
// mix-up of pieces show in the gradient too.
Outputs scaled_pieces(const std::vector<Tensor>& pieces, double first_scale) {
  Outputs outs;
  for (size_t i = 0; i < pieces.size(); ++i) outs.push_back(pieces[i] * (first_scale + static_cast<double>(i)));
  return outs;
}

Inputs batch_norm_inputs(CaseGen& g, const Shape& x_shape) {
  int64_t c = x_shape[1];
  return {g.normal(x_shape), g.normal({c}, 0.5), g.positive({c}), g.normal({c}), g.normal({c})};
}

// Runs batch_norm on copies of the running statistics so that every call of fn (the gradcheck
// makes many) starts from the same state; returns the output and the updated statistics.
Outputs batch_norm_train(const Inputs& in) {
  Tensor running_mean = in[1].detach().clone();
  Tensor running_var = in[2].detach().clone();
  Tensor y = batch_norm(in[0], running_mean, running_var, in[3], in[4], true, 0.1);
  return {y, running_mean, running_var};
}

}  // namespace

DENDRITE_OP_CASES(compose){
    {.name = "concat_axis0",
     .inputs =
         [](CaseGen& g) {
           int64_t c = g.dim(1, 5);
           return Inputs{g.normal({g.dim(1, 4), c}), g.normal({g.dim(1, 3), c}), g.normal({1, c})};
         },
     .fn =
         [](const Inputs& in) {
           return Outputs{concat({in[0], in[1], in[2]}, 0)};
         }},
    {.name = "concat_axis1_transposed",
     .inputs =
         [](CaseGen& g) {
           int64_t r = g.dim(2, 5);
           return Inputs{g.transposed({r, g.dim(2, 4)}), g.normal({r, g.dim(1, 3)})};
         },
     .fn =
         [](const Inputs& in) {
           return Outputs{concat({in[0], in[1]}, 1), concat({in[1], in[0]}, -1)};
         }},
    {.name = "concat_3d_middle_axis",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.normal({2, g.dim(1, 3), 4}), g.normal({2, 1, 4})};
         },
     .fn =
         [](const Inputs& in) {
           return Outputs{concat({in[0], in[1], in[0]}, 1)};
         }},
    {.name = "stack",
     .inputs =
         [](CaseGen& g) {
           Shape s{g.dim(2, 4), g.dim(2, 5)};
           return Inputs{g.normal(s), g.transposed(s), g.normal(s)};
         },
     .fn =
         [](const Inputs& in) {
           return Outputs{stack({in[0], in[1], in[2]}, 0), stack({in[0], in[1]}, -1), stack({in[2], in[1]}, 1)};
         }},
    {.name = "split",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.normal({7, g.dim(3, 5)})};
         },
     .fn =
         [](const Inputs& in) {
           Outputs outs = scaled_pieces(split(in[0], 3, 0), 1.0);  // pieces of 3, 3 and 1 rows
           Outputs cols = scaled_pieces(split(in[0], std::vector<int64_t>{1, 2, in[0].size(1) - 3}, 1), -2.0);
           outs.insert(outs.end(), cols.begin(), cols.end());
           return outs;
         }},
    {.name = "split_transposed",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.transposed({g.dim(4, 6), 5})};
         },
     .fn = [](const Inputs& in) { return scaled_pieces(split(in[0], 2, -1), 0.5); }},
    {.name = "layer_norm",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.transposed({g.dim(1, 4), g.dim(2, 6)})};
         },
     .fn = [](const Inputs& in) { return Outputs{layer_norm(in[0], {in[0].size(-1)})}; },
     .gradcheck_tol = 1e-5},
    {.name = "layer_norm_affine",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.normal({g.dim(1, 3), 3, 4}), g.normal({3, 4}), g.normal({3, 4})};
         },
     .fn =
         [](const Inputs& in) {
           return Outputs{layer_norm(in[0], {3, 4}, in[1], in[2])};
         },
     .gradcheck_tol = 1e-5},
    // A weight without a bias and a bias without a weight: each missing one is 1 or 0.
    {.name = "layer_norm_weight_or_bias_alone",
     .inputs =
         [](CaseGen& g) {
           int64_t d = g.dim(2, 7);
           return Inputs{g.normal({g.dim(1, 4), d}), g.normal({d}), g.normal({d})};
         },
     .fn =
         [](const Inputs& in) {
           int64_t d = in[0].size(-1);
           return Outputs{layer_norm(in[0], {d}, in[1]), layer_norm(in[0], {d}, {}, in[2]) * 0.5};
         },
     .gradcheck_tol = 1e-5},
    // Rows longer than a vector (a Transformer's width) and far from zero: the cpu kernel's float
    // sums must still match the double reference.
    {.name = "layer_norm_wide_rows_offset",
     .inputs =
         [](CaseGen& g) {
           int64_t d = g.dim(129, 140);
           return Inputs{g.normal({g.dim(2, 4), d}) * 0.1 + 50.0, g.normal({d}), g.normal({d})};
         },
     .fn = [](const Inputs& in) { return Outputs{layer_norm(in[0], {in[0].size(-1)}, in[1], in[2])}; },
     .rtol = 1e-3,
     .atol = 1e-3,
     .gradcheck_tol = 1e-4},
    // More rows than one block of the cpu backward's partial sums (kParallelGrain values), so
    // gweight and gbias add several blocks; too large for finite differences.
    {.name = "layer_norm_many_row_blocks",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.normal({g.dim(1100, 1300), 64}), g.normal({64}), g.normal({64})};
         },
     .fn = [](const Inputs& in) { return Outputs{layer_norm(in[0], {64}, in[1], in[2])}; },
     .gradcheck = false,
     .rtol = 1e-3,
     .atol = 1e-4},
    {.name = "batch_norm_train",
     .inputs =
         [](CaseGen& g) {
           return batch_norm_inputs(g, {g.dim(2, 4), 3, 2, g.dim(1, 3)});
         },
     .fn = [](const Inputs& in) { return Outputs{batch_norm_train(in)[0]}; },
     .constant_inputs = {1, 2},
     .gradcheck_tol = 1e-5},
    {.name = "batch_norm_train_2d_no_affine",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.normal({g.dim(2, 6), g.dim(1, 4)})};
         },
     .fn = [](const Inputs& in) { return Outputs{batch_norm(in[0], {}, {}, {}, {}, true)}; },
     .gradcheck_tol = 1e-5},
    // The running statistics are state, not a differentiable output: compared across backends only.
    {.name = "batch_norm_running_stats",
     .inputs =
         [](CaseGen& g) {
           return batch_norm_inputs(g, {g.dim(2, 4), 3, g.dim(1, 4)});
         },
     .fn =
         [](const Inputs& in) {
           Outputs outs = batch_norm_train(in);
           return Outputs{outs[1], outs[2]};
         },
     .differentiable = false},
    // Channels-last inputs (core/memory_format.h) take the kernels' row paths; the larger case has
    // several row blocks and several threads' partial sums, and values far from zero.
    {.name = "batch_norm_train_channels_last",
     .inputs =
         [](CaseGen& g) {
           Inputs in = batch_norm_inputs(g, {g.dim(2, 3), 3, 2, g.dim(2, 3)});
           in[0] = g.channels_last(in[0].shape());
           return in;
         },
     .fn = [](const Inputs& in) { return Outputs{batch_norm_train(in)[0]}; },
     .constant_inputs = {1, 2},
     .gradcheck_tol = 1e-5},
    {.name = "batch_norm_train_channels_last_many_rows",
     .inputs =
         [](CaseGen& g) {
           Inputs in = batch_norm_inputs(g, {4, 16, 12, 12});
           in[0] = g.channels_last({4, 16, 12, 12}) * 0.1 + 50.0;
           return in;
         },
     .fn = [](const Inputs& in) { return Outputs{relu(batch_norm_train(in)[0])}; },
     .gradcheck = false,
     .constant_inputs = {1, 2},
     .rtol = 1e-3,
     .atol = 1e-4},
    {.name = "batch_norm_eval_channels_last",
     .inputs =
         [](CaseGen& g) {
           Inputs in = batch_norm_inputs(g, {2, 3, 2, 2});
           in[0] = g.channels_last({2, 3, 2, 2});
           return in;
         },
     .fn = [](const Inputs& in) { return Outputs{batch_norm(in[0], in[1], in[2], in[3], in[4], false)}; },
     .constant_inputs = {1, 2},
     .gradcheck_tol = 1e-5},
    {.name = "batch_norm_eval",
     .inputs =
         [](CaseGen& g) {
           return batch_norm_inputs(g, {g.dim(1, 4), 3, g.dim(1, 5)});
         },
     .fn = [](const Inputs& in) { return Outputs{batch_norm(in[0], in[1], in[2], in[3], in[4], false)}; },
     .constant_inputs = {1, 2},  // running statistics are buffers, as in PyTorch: no gradient
     .gradcheck_tol = 1e-5},
    // Image-sized planes: the cpu kernel sums each plane in float before double; with values far
    // from zero, the shifted one-pass variance must still match the two-pass reference.
    {.name = "batch_norm_train_large_planes_offset",
     .inputs =
         [](CaseGen& g) {
           Inputs in = batch_norm_inputs(g, {2, 2, 13, 11});
           in[0] = in[0] * 0.1 + 50.0;
           return in;
         },
     .fn = [](const Inputs& in) { return Outputs{batch_norm_train(in)[0]}; },
     .constant_inputs = {1, 2},
     .rtol = 1e-3,
     .atol = 1e-3,
     .gradcheck_tol = 1e-4},
    {.name = "dropout",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.normal({g.dim(2, 5), g.dim(3, 8)})};
         },
     .fn =
         [](const Inputs& in) {
           Generator gen(7);
           return Outputs{dropout(in[0], 0.3, true, gen)};
         }},
    {.name = "dropout_transposed",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.transposed({4, g.dim(3, 6)})};
         },
     .fn =
         [](const Inputs& in) {
           Generator gen(11);
           return Outputs{dropout(in[0], 0.5, true, gen), dropout(in[0], 0.5, false, gen) * 2.0};
         }},
};

}  // namespace dendrite::testing
