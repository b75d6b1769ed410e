// The kernel operations: the whole contract between the ops layer and a backend. Each OpId has one
// function signature (KernelTraits); a backend registers a function for the (op, dtype) pairs it
// supports and the registry falls back to the next backend for the rest (STYLE.md: ggml's
// supports_op). Adding an op means one enumerator and one KernelTraits specialisation; the
// static_assert below then points at the tables that must learn it.
//
// Conventions for every kernel:
//  - outputs are allocated by the caller with the documented shape and dtype; kernels never
//    allocate tensors that outlive the call;
//  - inputs may have any strides (transposed views, stride-0 broadcasts) unless a line says
//    otherwise; outputs are contiguous unless a line says otherwise;
//  - operands were validated by the ops layer (shapes, dtypes, index bounds): kernels do not
//    throw for user mistakes, and must not throw inside a parallel region.
#pragma once

#include <cstdint>
#include <span>

#include "dendrite/core/scalar.h"
#include "dendrite/core/tensor_base.h"
#include "dendrite/kernels/params.h"

namespace dendrite::kernels {

enum class OpId : uint8_t {
  copy,                      // dst[i] = convert(src[i]); same shape, any dtypes, dst may be strided
  fill,                      // dst[i] = value; dst may be strided
  unary,                     // out = op(x); same shape
  binary,                    // out = op(a, b); a and b already expanded to out's shape (stride 0)
  reduce,                    // out = reduce of x over the axes where out has size 1 and x does not
  argmax,                    // out (i64) = index of the first maximum of x along axis; out keeps axis as 1
  matmul,                    // out[..., M, N] = a[..., M, K] @ b[..., K, N] (+ bias[N]); batch dims equal
  conv2d_forward,            // y[N, O, Ho, Wo] = conv(x[N, C, H, W], w[O, C/groups, kh, kw]) (+ bias[O])
  conv2d_backward_data,      // gx[N, C, H, W] from gy and w
  conv2d_backward_weights,   // gw[O, C/g, kh, kw] (and gbias[O] when given) from x and gy
  pool2d_forward,            // y[N, C, Ho, Wo] = pool(x[N, C, H, W])
  pool2d_backward,           // gx from x, y and gy (max pooling routes to the first maximum)
  softmax_forward,           // y = softmax(x) or log_softmax(x) along axis
  softmax_backward,          // gx from y (the forward output) and gy
  cross_entropy_forward,     // loss[N] and log_probs[N, C] from logits[N, C] and labels (i64) [N]
  cross_entropy_backward,    // glogits[N, C] from log_probs, labels and gloss[N]
  index_select,              // out = src taken at index (i64, 1-D) along axis
  index_add,                 // dst (in place) += src scattered at index (i64, 1-D) along axis
  gather,                    // out[.., i, ..] = src[.., index[.., i, ..], ..] along axis (torch.gather)
  scatter_add,               // dst (in place)[.., index[.., i, ..], ..] += src[.., i, ..] along axis
  batch_norm_stats,          // mean[C], biased var[C] of x[N, C, S...] over N and S
  batch_norm_forward,        // y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]
  batch_norm_backward,       // gx (and gweight, gbias) of batch_norm_forward, batch or fixed statistics
  lstm_forward,              // one LSTM time step's gate nonlinearities and state update, rows of a batch
  lstm_backward,             // dgates and dc of lstm_forward from its saved activations
  lstm_recurrence,           // a whole LSTM layer's time loop: per step h W_hh^T and lstm_forward
  lstm_recurrence_backward,  // its backpropagation through time: per step lstm_backward and dgates W_hh
  gru_forward,               // one GRU time step's gate nonlinearities and state update, rows of a batch
  gru_backward,              // dgx, dgh and dh of gru_forward, recomputing its gates
  additive_scores_forward,   // scores[B, S] = v . tanh(keys[B, S, A] + query[B, A]) (Bahdanau attention)
  additive_scores_backward,  // dkeys, dquery, dv of additive_scores_forward from its saved tanh
  layer_norm_forward,        // y = (x - mean) * rstd * weight + bias over each row of the last D values
  layer_norm_backward,       // gx (and gweight, gbias) of layer_norm_forward from its saved mean and rstd
  count
};
inline constexpr int kNumOps = static_cast<int>(OpId::count);
static_assert(kNumOps == 33,
              "a kernel op was added: add its KernelTraits below, its reference "
              "kernel, and its entry in the conformance table");

template <OpId> struct KernelTraits;

template <> struct KernelTraits<OpId::copy> {
  static constexpr const char* name = "copy";
  using Fn = void (*)(const TensorBase& src, const TensorBase& dst);
};
template <> struct KernelTraits<OpId::fill> {
  static constexpr const char* name = "fill";
  using Fn = void (*)(const TensorBase& dst, Scalar value);
};
template <> struct KernelTraits<OpId::unary> {
  static constexpr const char* name = "unary";
  using Fn = void (*)(UnaryOp op, const TensorBase& x, const TensorBase& out);
};
template <> struct KernelTraits<OpId::binary> {
  static constexpr const char* name = "binary";
  using Fn = void (*)(BinaryOp op, const TensorBase& a, const TensorBase& b, const TensorBase& out);
};
template <> struct KernelTraits<OpId::reduce> {
  static constexpr const char* name = "reduce";
  using Fn = void (*)(ReduceOp op, const TensorBase& x, const TensorBase& out);
};
template <> struct KernelTraits<OpId::argmax> {
  static constexpr const char* name = "argmax";
  using Fn = void (*)(const TensorBase& x, int64_t axis, const TensorBase& out);
};
template <> struct KernelTraits<OpId::matmul> {
  static constexpr const char* name = "matmul";
  // bias may be undefined. a and b may be transposed views (any strides on the last two axes).
  using Fn = void (*)(const TensorBase& a, const TensorBase& b, const TensorBase& bias, const TensorBase& out);
};
template <> struct KernelTraits<OpId::conv2d_forward> {
  static constexpr const char* name = "conv2d_forward";
  using Fn = void (*)(const TensorBase& x, const TensorBase& w, const TensorBase& bias, const Conv2dParams& p, const TensorBase& y);
};
template <> struct KernelTraits<OpId::conv2d_backward_data> {
  static constexpr const char* name = "conv2d_backward_data";
  using Fn = void (*)(const TensorBase& gy, const TensorBase& w, const Conv2dParams& p, const TensorBase& gx);
};
template <> struct KernelTraits<OpId::conv2d_backward_weights> {
  static constexpr const char* name = "conv2d_backward_weights";
  // gbias may be undefined (no bias).
  using Fn = void (*)(const TensorBase& x, const TensorBase& gy, const Conv2dParams& p, const TensorBase& gw, const TensorBase& gbias);
};
template <> struct KernelTraits<OpId::pool2d_forward> {
  static constexpr const char* name = "pool2d_forward";
  using Fn = void (*)(const TensorBase& x, const Pool2dParams& p, const TensorBase& y);
};
template <> struct KernelTraits<OpId::pool2d_backward> {
  static constexpr const char* name = "pool2d_backward";
  using Fn = void (*)(const TensorBase& x, const TensorBase& y, const TensorBase& gy, const Pool2dParams& p, const TensorBase& gx);
};
template <> struct KernelTraits<OpId::softmax_forward> {
  static constexpr const char* name = "softmax_forward";
  using Fn = void (*)(const TensorBase& x, int64_t axis, bool log, const TensorBase& y);
};
template <> struct KernelTraits<OpId::softmax_backward> {
  static constexpr const char* name = "softmax_backward";
  using Fn = void (*)(const TensorBase& y, const TensorBase& gy, int64_t axis, bool log, const TensorBase& gx);
};
template <> struct KernelTraits<OpId::cross_entropy_forward> {
  static constexpr const char* name = "cross_entropy_forward";
  // loss[n] = -(1 - s) * log_probs[n, label[n]] - s / C * sum_c log_probs[n, c], s = label_smoothing.
  using Fn = void (*)(const TensorBase& logits, const TensorBase& labels, double label_smoothing, const TensorBase& loss,
                      const TensorBase& log_probs);
};
template <> struct KernelTraits<OpId::cross_entropy_backward> {
  static constexpr const char* name = "cross_entropy_backward";
  using Fn = void (*)(const TensorBase& log_probs, const TensorBase& labels, const TensorBase& gloss, double label_smoothing,
                      const TensorBase& glogits);
};
template <> struct KernelTraits<OpId::index_select> {
  static constexpr const char* name = "index_select";
  using Fn = void (*)(const TensorBase& src, int64_t axis, const TensorBase& index, const TensorBase& out);
};
template <> struct KernelTraits<OpId::index_add> {
  static constexpr const char* name = "index_add";
  using Fn = void (*)(const TensorBase& dst, int64_t axis, const TensorBase& index, const TensorBase& src);
};
template <> struct KernelTraits<OpId::gather> {
  static constexpr const char* name = "gather";
  using Fn = void (*)(const TensorBase& src, int64_t axis, const TensorBase& index, const TensorBase& out);
};
template <> struct KernelTraits<OpId::scatter_add> {
  static constexpr const char* name = "scatter_add";
  using Fn = void (*)(const TensorBase& dst, int64_t axis, const TensorBase& index, const TensorBase& src);
};

// Batch normalisation (Ioffe & Szegedy 2015). x, y, gy and gx are contiguous and read as [N, C, S]
// with S the product of the dimensions after the channel axis (1 for [N, C]), or all four are
// channels-last [N, C, H, W] (core/memory_format.h: read as N * H * W rows of C); mean, var, weight,
// bias and their gradients are contiguous [C] of x's dtype. weight and bias may be undefined
// (1 and 0). Fused so that training reads x once for the statistics and once for y, instead of the
// ten full-size temporaries the composite of broadcast ops made.
template <> struct KernelTraits<OpId::batch_norm_stats> {
  static constexpr const char* name = "batch_norm_stats";
  using Fn = void (*)(const TensorBase& x, const TensorBase& mean, const TensorBase& var);
};
template <> struct KernelTraits<OpId::batch_norm_forward> {
  static constexpr const char* name = "batch_norm_forward";
  using Fn = void (*)(const TensorBase& x, const TensorBase& mean, const TensorBase& var, const TensorBase& weight,
                      const TensorBase& bias, double eps, const TensorBase& y);
};
template <> struct KernelTraits<OpId::batch_norm_backward> {
  static constexpr const char* name = "batch_norm_backward";
  // batch_stats: mean and var were computed from this x (training), so they depend on x and gx
  // carries the two extra terms; otherwise they are constants (running statistics) and
  // gx = gy * weight / sqrt(var + eps). gweight and gbias may be undefined (not wanted).
  using Fn = void (*)(const TensorBase& x, const TensorBase& gy, const TensorBase& mean, const TensorBase& var,
                      const TensorBase& weight, double eps, bool batch_stats, const TensorBase& gx,
                      const TensorBase& gweight, const TensorBase& gbias);
};

// The LSTM cell's elementwise part (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et
// al. 2000), one time step t over the B rows of a batch; H is the hidden size, gates are in
// PyTorch's order i, f, g, o. The GEMMs around it are matmul kernels.
//   a = gates[t, b] (+ gates2[b]),  i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o)
//   c' = f * c[b] + i * g,  h' = o * tanh(c')
// Sequence operands are [T, B, W] and only their step t is used (a [B, W] one is read as T = 1);
// state operands are [B, W]. Every operand has unit stride along W and any other strides: a layer
// passes its whole buffers and the step index, so a step allocates no tensor.
// A row is inactive at or past its length (lengths non-empty and t >= lengths[b]): it keeps its
// state, as nn::LSTM's padded sequences do. The forward can save acts = (i, f, g, o, tanh(c')),
// 5H values a row, so that the backward needs no transcendental function.
template <> struct KernelTraits<OpId::lstm_forward> {
  static constexpr const char* name = "lstm_forward";
  // gates [T, B, 4H]; gates2 [B, 4H] or undefined (the recurrent projection, summed here rather
  // than in a pass of its own); c [B, H]. Outputs: h [B, H] receives h' (in place: its old value
  // is what h_prev saves); c_out [B, H] receives c' and may be c. Optional outputs, undefined when
  // not wanted: y [T, B, H] a second copy of h' (zero on inactive rows); acts [T, B, 5H]; h_prev,
  // c_prev [T, B, H] the state before the step. Inactive rows keep h, get c_out = c and no acts.
  using Fn = void (*)(const TensorBase& gates, const TensorBase& gates2, const TensorBase& c, int64_t t,
                      std::span<const int64_t> lengths, const TensorBase& h, const TensorBase& c_out,
                      const TensorBase& y, const TensorBase& acts, const TensorBase& h_prev, const TensorBase& c_prev);
};
template <> struct KernelTraits<OpId::lstm_backward> {
  static constexpr const char* name = "lstm_backward";
  // acts [T, B, 5H] and c_prev [T, B, H] as the forward saved them; dh [B, H] the gradient of h'
  // (+ dh2 [T, B, H] when defined); dc [B, H] the gradient of c'. Writes dgates [T, B, 4H] and
  // dc_out [B, H], the gradient of c, which may be dc. Inactive rows get zero dgates and
  // dc_out = dc (their state passed through the step).
  using Fn = void (*)(const TensorBase& acts, const TensorBase& c_prev, const TensorBase& dh, const TensorBase& dh2,
                      const TensorBase& dc, int64_t t, std::span<const int64_t> lengths, const TensorBase& dgates,
                      const TensorBase& dc_out);
};

// The time loop of a whole LSTM layer (ops/lstm_layer.cpp), so that a backend can keep its threads
// for the whole loop instead of forking and joining twice per step: a step's product is 64 x 256 x
// 1024 in W3, too small for two threads to split it profitably, and waking the second thread costs
// more than its half saves (docs/performance.md, "W3 at two threads"). Rows of the batch are
// independent through the whole loop, so a backend may give each thread a share of them and no
// barrier at all. Gate-wide operands are in PyTorch's order i, f, g, o.
// Steps run in processing order: t = 0 .. T-1, or T-1 .. 0 when reverse.
template <> struct KernelTraits<OpId::lstm_recurrence> {
  static constexpr const char* name = "lstm_recurrence";
  // xg [T, B, 4H] the input projections with both biases; w_hh [4H, H] contiguous. state
  // [T + 2, B, H] contiguous: rows 0..T-1 receive y (zero on inactive rows), row T holds h0 and
  // row T + 1 c0 on entry, h_T and c_T on exit. acts [T, B, 5H], h_prev and c_prev [T, B, H]:
  // lstm_forward's saved values, all three defined or none.
  using Fn = void (*)(const TensorBase& xg, const TensorBase& w_hh, std::span<const int64_t> lengths, bool reverse,
                      const TensorBase& state, const TensorBase& acts, const TensorBase& h_prev,
                      const TensorBase& c_prev);
};
template <> struct KernelTraits<OpId::lstm_recurrence_backward> {
  static constexpr const char* name = "lstm_recurrence_backward";
  // acts, c_prev and w_hh as the forward had them; grad [T + 2, B, H] contiguous, the gradient of
  // the forward's state (rows of y, then h_T and c_T). Writes dgates [T, B, 4H] (zero rows where
  // a sequence had ended) and dh, dc [B, H], the gradients of h0 and c0.
  using Fn = void (*)(const TensorBase& acts, const TensorBase& c_prev, const TensorBase& w_hh,
                      std::span<const int64_t> lengths, bool reverse, const TensorBase& grad, const TensorBase& dgates,
                      const TensorBase& dh, const TensorBase& dc);
};

// The GRU cell's elementwise part (Cho et al. 2014) in PyTorch's formulation, where the reset gate
// scales the recurrent projection of the candidate, bias included, over the B rows of a batch; H
// is the hidden size, gates in the order r, z, n. gx = x W_ih^T + b_ih and gh = h W_hh^T + b_hh
// are the two projections (matmul kernels):
//   r = sigmoid(gx_r + gh_r),  z = sigmoid(gx_z + gh_z),  n = tanh(gx_n + r * gh_n)
//   h' = (1 - z) * n + z * h
// and its gradient, with dh' the gradient of h':
//   dn = dh' (1 - z) (1 - n^2),  dz = dh' (h - n) z (1 - z),  dr = dn gh_n r (1 - r)
//   dgx = (dr, dz, dn),  dgh = (dr, dz, r dn),  dh = dh' z
// Every operand is [B, W] with unit stride along W and any row stride. The backward recomputes
// r, z and n from gx, gh and h, which autograd keeps anyway, rather than a saved copy.
template <> struct KernelTraits<OpId::gru_forward> {
  static constexpr const char* name = "gru_forward";
  // gx, gh [B, 3H]; h [B, H]. Writes h_out [B, H] = h', which may be h.
  using Fn = void (*)(const TensorBase& gx, const TensorBase& gh, const TensorBase& h, const TensorBase& h_out);
};
template <> struct KernelTraits<OpId::gru_backward> {
  static constexpr const char* name = "gru_backward";
  // gx, gh [B, 3H] and h [B, H] as the forward read them; dh_out [B, H] the gradient of h'. Writes
  // dgx, dgh [B, 3H] and dh [B, H], the gradient of h, which may be dh_out.
  using Fn = void (*)(const TensorBase& gx, const TensorBase& gh, const TensorBase& h, const TensorBase& dh_out,
                      const TensorBase& dgx, const TensorBase& dgh, const TensorBase& dh);
};

// The scores of additive attention (Bahdanau et al. 2015) over the S keys of each of B rows:
//   scores[b, s] = sum_a v[a] tanh(keys[b, s, a] + query[b, a])
// where keys and query are already projected to the attention width A (W_k k + b_k, W_q q). One
// pass instead of a broadcast add, a tanh and a [B S, A] x [A, 1] product, each writing a [B, S, A]
// temporary. With g the gradient of the scores and h = tanh(keys + query):
//   dpre[b, s, a] = g[b, s] v[a] (1 - h[b, s, a]^2)
//   dkeys = dpre,  dquery[b, a] = sum_s dpre[b, s, a],  dv[a] = sum_{b, s} g[b, s] h[b, s, a]
// Every operand has unit stride along its last axis and any other strides.
template <>
struct KernelTraits<OpId::additive_scores_forward> {
  static constexpr const char* name = "additive_scores_forward";
  // keys [B, S, A], query [B, A], v [A]. Writes scores [B, S] and, when defined, hidden [B, S, A]
  // = h, which the backward reads (undefined under inference: no [B, S, A] store).
  using Fn = void (*)(const TensorBase& keys, const TensorBase& query, const TensorBase& v, const TensorBase& scores,
                      const TensorBase& hidden);
};
template <>
struct KernelTraits<OpId::additive_scores_backward> {
  static constexpr const char* name = "additive_scores_backward";
  // hidden [B, S, A] as the forward saved it, v [A], grad [B, S]. Writes dkeys [B, S, A], dquery
  // [B, A] and dv [A].
  using Fn = void (*)(const TensorBase& hidden, const TensorBase& v, const TensorBase& grad, const TensorBase& dkeys,
                      const TensorBase& dquery, const TensorBase& dv);
};

// Layer normalisation (Ba, Kiros & Hinton 2016) over rows of D values: x, y, gy and gx are
// contiguous and read as [R, D] with D the product of the normalised (trailing) dimensions; weight,
// bias and their gradients are contiguous [D] of x's dtype and may be undefined (1 and 0); mean and
// rstd are contiguous [R]. With xhat = (x - mean) * rstd, rstd = 1 / sqrt(biased var + eps):
//   y = xhat * weight + bias
//   gweight = sum_rows gy * xhat,  gbias = sum_rows gy
//   gx = rstd * (gxhat - mean_D(gxhat) - xhat * mean_D(gxhat * xhat)),  gxhat = gy * weight
// One pass each way per row, where the composite of broadcast ops wrote about ten [R, D]
// temporaries forward and more backward (a pre-norm Transformer has two or three per layer).
template <>
struct KernelTraits<OpId::layer_norm_forward> {
  static constexpr const char* name = "layer_norm_forward";
  // Writes y and, when defined (the backward will need them), mean and rstd.
  using Fn = void (*)(const TensorBase& x, const TensorBase& weight, const TensorBase& bias, int64_t features,
                      double eps, const TensorBase& y, const TensorBase& mean, const TensorBase& rstd);
};
template <>
struct KernelTraits<OpId::layer_norm_backward> {
  static constexpr const char* name = "layer_norm_backward";
  // gweight and gbias may be undefined (not wanted). Sums over rows are added in a fixed order of
  // row blocks, so the result does not depend on the thread count.
  using Fn = void (*)(const TensorBase& x, const TensorBase& gy, const TensorBase& mean, const TensorBase& rstd,
                      const TensorBase& weight, int64_t features, const TensorBase& gx, const TensorBase& gweight,
                      const TensorBase& gbias);
};

}  // namespace dendrite::kernels
