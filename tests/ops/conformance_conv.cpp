// Conformance entries: conv2d (stride, padding, dilation, groups, bias, strided operands) and
// max/avg pooling. Inputs stay under ~150 elements because gradcheck evaluates the op twice per
// input element.
#include "conformance.h"

namespace dendrite::testing {
namespace {

// x [N, C, H, W] and w [O, C / groups, kh, kw] with random small batch and spatial sizes.
Inputs conv_inputs(CaseGen& g, int64_t C, int64_t O, int64_t kh, int64_t kw, int64_t groups, int64_t hw_low,
                   int64_t hw_high, bool with_bias) {
  Inputs in{g.normal({g.dim(1, 2), C, g.dim(hw_low, hw_high), g.dim(hw_low, hw_high)}),
            g.normal({O, C / groups, kh, kw})};
  if (with_bias) in.push_back(g.normal({O}));
  return in;
}

Outputs conv(const Inputs& in, const Conv2dParams& p) {
  return Outputs{conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), p)};
}

// Pooling input without ties inside a window: normal values (ties have probability zero).
Inputs pool_input(CaseGen& g, int64_t hw_low, int64_t hw_high) {
  return {g.normal({g.dim(1, 2), g.dim(1, 2), g.dim(hw_low, hw_high), g.dim(hw_low, hw_high)})};
}

}  // namespace

DENDRITE_OP_CASES(conv){
    // 16 and more channels: oneDNN picks channel-blocked layouts, so the reorders around the
    // primitive are exercised (the small cases above keep plain layouts).
    {.name = "conv2d_blocked_channels_bias",
     .inputs = [](CaseGen& g) { return conv_inputs(g, 16, 32, 3, 3, 1, 5, 7, true); },
     .fn =
         [](const Inputs& in) {
           return conv(in, {.padding = {1, 1}});
         },
     .gradcheck = false,
     .trials = 1},
    {.name = "conv2d_blocked_channels_stride2",
     .inputs = [](CaseGen& g) { return conv_inputs(g, 32, 16, 3, 3, 1, 6, 8, false); },
     .fn =
         [](const Inputs& in) {
           return conv(in, {.stride = {2, 2}});
         },
     .gradcheck = false,
     .trials = 1},
    // Channels-last activations (core/memory_format.h): oneDNN reads and writes nhwc directly.
    {.name = "conv2d_channels_last_bias",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.channels_last({g.dim(1, 2), 16, g.dim(5, 7), g.dim(5, 7)}), g.normal({32, 16, 3, 3}),
                         g.normal({32})};
         },
     .fn =
         [](const Inputs& in) {
           return conv(in, {.padding = {1, 1}});
         },
     .gradcheck = false,
     .trials = 1},
    {.name = "conv2d_channels_last_small",
     .inputs =
         [](CaseGen& g) {
           const int64_t C = g.dim(2, 3);
           return Inputs{g.channels_last({1, C, g.dim(3, 5), g.dim(3, 5)}), g.normal({2, C, 3, 3})};
         },
     .fn =
         [](const Inputs& in) {
           return conv(in, {.stride = {2, 1}});
         }},
    // A W2-like chain stored channels-last throughout: conv -> relu -> 2x2 max pool -> conv, with
    // odd spatial sizes (the pool leaves the last row and column out).
    {.name = "conv_relu_pool_conv_channels_last",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.channels_last({2, 16, 2 * g.dim(3, 4) + 1, 2 * g.dim(3, 4) + 1}), g.normal({32, 16, 3, 3}),
                         g.normal({16, 32, 3, 3})};
         },
     .fn =
         [](const Inputs& in) {
           Tensor h = max_pool2d(relu(conv2d(in[0], in[1], Tensor(), {.padding = {1, 1}})), {2, 2});
           return Outputs{conv2d(h, in[2], Tensor(), {})};
         },
     .gradcheck = false,
     .trials = 1},
    // The fused ReLU (a oneDNN post-op on cpu), forward and the masked backward.
    {.name = "conv2d_relu_fused",
     .inputs = [](CaseGen& g) { return conv_inputs(g, g.dim(1, 3), g.dim(2, 3), 3, 3, 1, 3, 5, true); },
     .fn =
         [](const Inputs& in) {
           return Outputs{conv2d_relu(in[0], in[1], in[2], {.padding = {1, 1}})};
         }},
    {.name = "conv2d_relu_fused_blocked_channels",
     .inputs = [](CaseGen& g) { return conv_inputs(g, 16, 32, 3, 3, 1, 5, 7, true); },
     .fn =
         [](const Inputs& in) {
           return Outputs{conv2d_relu(in[0], in[1], in[2], {.padding = {1, 1}})};
         },
     .gradcheck = false,
     .trials = 1},
    {.name = "conv2d_plain",
     .inputs = [](CaseGen& g) { return conv_inputs(g, g.dim(1, 2), g.dim(1, 3), 3, 3, 1, 3, 6, false); },
     .fn = [](const Inputs& in) { return conv(in, {}); }},
    {.name = "conv2d_bias",
     .inputs = [](CaseGen& g) { return conv_inputs(g, 2, 3, 3, 3, 1, 3, 5, true); },
     .fn = [](const Inputs& in) { return conv(in, {}); }},
    {.name = "conv2d_1x1_bias",
     .inputs = [](CaseGen& g) { return conv_inputs(g, 3, 4, 1, 1, 1, 2, 4, true); },
     .fn = [](const Inputs& in) { return conv(in, {}); }},
    {.name = "conv2d_stride2",
     .inputs = [](CaseGen& g) { return conv_inputs(g, 2, 2, 3, 3, 1, 5, 6, false); },
     .fn =
         [](const Inputs& in) {
           return conv(in, {.stride = {2, 2}});
         }},
    {.name = "conv2d_padding1_bias",
     .inputs = [](CaseGen& g) { return conv_inputs(g, 2, 3, 3, 3, 1, 2, 5, true); },
     .fn =
         [](const Inputs& in) {
           return conv(in, {.padding = {1, 1}});
         }},
    {.name = "conv2d_dilation2",
     .inputs = [](CaseGen& g) { return conv_inputs(g, 2, 2, 3, 3, 1, 5, 6, false); },
     .fn =
         [](const Inputs& in) {
           return conv(in, {.padding = {1, 1}, .dilation = {2, 2}});
         }},
    {.name = "conv2d_asymmetric",  // every parameter differs between the two axes
     .inputs = [](CaseGen& g) { return conv_inputs(g, 2, 2, 2, 3, 1, 4, 6, true); },
     .fn =
         [](const Inputs& in) {
           return conv(in, {.stride = {1, 2}, .padding = {1, 0}, .dilation = {2, 1}});
         }},
    {.name = "conv2d_groups2",
     .inputs = [](CaseGen& g) { return conv_inputs(g, 4, 6, 3, 3, 2, 3, 4, true); },
     .fn = [](const Inputs& in) { return conv(in, {.groups = 2}); }},
    {.name = "conv2d_depthwise_stride2_padding1",
     .inputs = [](CaseGen& g) { return conv_inputs(g, 3, 3, 3, 3, 3, 4, 5, false); },
     .fn =
         [](const Inputs& in) {
           return conv(in, {.stride = {2, 2}, .padding = {1, 1}, .groups = 3});
         }},
    {.name = "conv2d_transposed_operands",  // both x and w are views with the last two axes swapped
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.transposed({g.dim(1, 2), 2, g.dim(3, 5), g.dim(4, 6)}), g.transposed({3, 2, 3, 2}),
                         g.normal({3})};
         },
     .fn =
         [](const Inputs& in) {
           return conv(in, {.padding = {0, 1}});
         }},
};

DENDRITE_OP_CASES(pooling){
    {.name = "max_pool2d_2x2",
     .inputs = [](CaseGen& g) { return pool_input(g, 2, 6); },
     .fn =
         [](const Inputs& in) {
           return Outputs{max_pool2d(in[0], {2, 2})};
         }},
    // ReLU outputs: many windows tie at zero, and every backend must route the gradient to the
    // first maximum (row-major). Ties are not differentiable, so no finite differences.
    {.name = "max_pool2d_2x2_ties_after_relu",
     .inputs =
         [](CaseGen& g) {
           return Inputs{relu(g.normal({2, 3, g.dim(4, 9), g.dim(4, 9)}))};
         },
     .fn =
         [](const Inputs& in) {
           return Outputs{max_pool2d(in[0], {2, 2})};
         },
     .gradcheck = false},
    // Rows long enough for the cpu 2x2 kernel's vector body and tail, odd sizes (the last row and
    // column unused), and channel planes that are not contiguous (a slice).
    {.name = "max_pool2d_2x2_wide_sliced",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.normal({2, 5, 7, 2 * g.dim(17, 23) + 1})};
         },
     .fn =
         [](const Inputs& in) {
           return Outputs{max_pool2d(in[0].slice(1, 1, 5, 2), {2, 2})};
         },
     .gradcheck = false},
    {.name = "max_pool2d_2x2_channels_last",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.channels_last({g.dim(1, 2), g.dim(2, 4), g.dim(2, 5), g.dim(2, 5)})};
         },
     .fn =
         [](const Inputs& in) {
           return Outputs{max_pool2d(in[0], {2, 2})};
         }},
    // Enough channels for the vector body of the channels-last loop, odd sizes, ties after relu.
    {.name = "max_pool2d_2x2_channels_last_wide_ties",
     .inputs =
         [](CaseGen& g) {
           return Inputs{relu(g.channels_last({2, g.dim(17, 40), 7, 9}))};
         },
     .fn =
         [](const Inputs& in) {
           return Outputs{max_pool2d(in[0], {2, 2})};
         },
     .gradcheck = false},
    {.name = "max_pool2d_3x3_stride2_padding1_channels_last",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.channels_last({1, g.dim(2, 3), g.dim(3, 6), g.dim(3, 6)})};
         },
     .fn =
         [](const Inputs& in) {
           return Outputs{max_pool2d(in[0], {3, 3}, {2, 2}, {1, 1})};
         }},
    {.name = "avg_pool2d_3x3_stride2_padding1_channels_last",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.channels_last({1, g.dim(2, 3), g.dim(3, 6), g.dim(3, 6)})};
         },
     .fn =
         [](const Inputs& in) {
           return Outputs{avg_pool2d(in[0], {3, 3}, {2, 2}, {1, 1}, false)};
         }},
    {.name = "max_pool2d_3x3_stride2_padding1",
     .inputs = [](CaseGen& g) { return pool_input(g, 3, 6); },
     .fn =
         [](const Inputs& in) {
           return Outputs{max_pool2d(in[0], {3, 3}, {2, 2}, {1, 1})};
         }},
    {.name = "max_pool2d_overlapping_stride1",
     .inputs = [](CaseGen& g) { return pool_input(g, 2, 5); },
     .fn =
         [](const Inputs& in) {
           return Outputs{max_pool2d(in[0], {2, 2}, {1, 1})};
         }},
    {.name = "max_pool2d_transposed_input",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.transposed({2, 2, g.dim(4, 6), g.dim(3, 5)})};
         },
     .fn =
         [](const Inputs& in) {
           return Outputs{max_pool2d(in[0], {2, 3}, {2, 1}, {1, 1})};
         }},
    {.name = "avg_pool2d_2x2",
     .inputs = [](CaseGen& g) { return pool_input(g, 2, 6); },
     .fn =
         [](const Inputs& in) {
           return Outputs{avg_pool2d(in[0], {2, 2})};
         }},
    {.name = "avg_pool2d_3x3_stride2_padding1_include_pad",
     .inputs = [](CaseGen& g) { return pool_input(g, 3, 6); },
     .fn =
         [](const Inputs& in) {
           return Outputs{avg_pool2d(in[0], {3, 3}, {2, 2}, {1, 1}, true)};
         }},
    {.name = "avg_pool2d_3x3_stride2_padding1_exclude_pad",
     .inputs = [](CaseGen& g) { return pool_input(g, 3, 6); },
     .fn =
         [](const Inputs& in) {
           return Outputs{avg_pool2d(in[0], {3, 3}, {2, 2}, {1, 1}, false)};
         }},
    {.name = "avg_pool2d_asymmetric_exclude_pad_transposed",
     .inputs =
         [](CaseGen& g) {
           return Inputs{g.transposed({1, 3, g.dim(3, 6), g.dim(4, 6)})};
         },
     .fn =
         [](const Inputs& in) {
           return Outputs{avg_pool2d(in[0], {2, 3}, {1, 2}, {1, 1}, false)};
         }},
};

}  // namespace dendrite::testing
