// The whole-layer LSTM op against the same layer composed step by step from lstm_cell (values and
// every input's gradient, in f64), with lengths, reverse, missing biases and unused outputs; its
// conformance entries (finite-difference gradcheck in f64, cpu against reference in f32); and
// the errors of its bad inputs.
#include "dendrite/ops/lstm_layer.h"

#include <gtest/gtest.h>

#include <string>

#include "conformance.h"
#include "dendrite/core/threading.h"
#include "dendrite/ops/ops.h"
#include "support/errors.h"

namespace dendrite {
namespace {

using test_support::error_of;

// nn::LSTM's former per-step loop: lstm_cell each step, and rows whose sequence has ended keep
// their state (keep is exactly 0 or 1) and output zero.
LstmLayerOutput composed_layer(const Tensor& x, LstmState s, const Tensor& w_ih, const Tensor& w_hh,
                               const Tensor& b_ih, const Tensor& b_hh, const std::vector<int64_t>& lengths,
                               bool reverse) {
  const int64_t steps = x.size(0), batch = x.size(1);
  std::vector<Tensor> outs(static_cast<size_t>(steps));
  for (int64_t i = 0; i < steps; ++i) {
    const int64_t t = reverse ? steps - 1 - i : i;
    LstmState next = lstm_cell(x.select(0, t), s, w_ih, w_hh, b_ih, b_hh);
    Tensor out = next.h;
    if (!lengths.empty()) {
      std::vector<double> k(static_cast<size_t>(batch));
      for (size_t b = 0; b < k.size(); ++b) k[b] = t < lengths[b] ? 1.0 : 0.0;
      const Tensor keep = tensor<double>(k, {batch, 1}).to(x.dtype()), drop = 1.0 - keep;
      out = next.h * keep;
      next = {out + s.h * drop, next.c * keep + s.c * drop};
    }
    s = next;
    outs[static_cast<size_t>(t)] = out;
  }
  return {stack(outs, 0), s.h, s.c};
}

struct Case {
  int64_t steps = 5, batch = 4, input = 3, hidden = 3;
  std::vector<int64_t> lengths = {};
  bool reverse = false;
  bool bias_ih = true, bias_hh = true;
  bool use_y = true, use_h = true, use_c = true;
  bool grad_x = true, grad_state = true;
  DType dtype = DType::f64;
  double tol = 1e-12;
};

void expect_near(const Tensor& a, const Tensor& b, const std::string& what, double tol = 1e-12) {
  ASSERT_EQ(a.defined(), b.defined()) << what;
  if (!a.defined()) return;
  ASSERT_EQ(a.shape(), b.shape()) << what;
  std::vector<double> x = to_vector<double>(a), y = to_vector<double>(b);
  for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(x[i], y[i], tol) << what << ", element " << i;
}

void check_against_composed(const Case& k) {
  Generator gen(11);
  const DType f64 = k.dtype;
  const int64_t g = 4 * k.hidden;
  Tensor x = randn({k.steps, k.batch, k.input}, f64, gen), h0 = randn({k.batch, k.hidden}, f64, gen);
  Tensor c0 = randn({k.batch, k.hidden}, f64, gen);
  Tensor w_ih = randn({g, k.input}, f64, gen) * 0.5, w_hh = randn({g, k.hidden}, f64, gen) * 0.5;
  Tensor b_ih = k.bias_ih ? randn({g}, f64, gen) : Tensor(), b_hh = k.bias_hh ? randn({g}, f64, gen) : Tensor();
  if (k.grad_x) x.requires_grad_();
  if (k.grad_state) {
    h0.requires_grad_();
    c0.requires_grad_();
  }
  std::vector<Tensor> params{w_ih.requires_grad_(), w_hh.requires_grad_()};
  for (const Tensor& b : {b_ih, b_hh})
    if (b.defined()) params.push_back(b.requires_grad_());
  std::vector<Tensor> all = params;
  all.insert(all.end(), {x, h0, c0});
  const Tensor wy = randn({k.steps, k.batch, k.hidden}, f64, gen), wh = randn({k.batch, k.hidden}, f64, gen);
  const Tensor wc = randn({k.batch, k.hidden}, f64, gen);

  auto run = [&](auto&& layer) {
    LstmLayerOutput r = layer();
    Tensor loss = zeros({}, f64);
    if (k.use_y) loss = loss + sum(r.y * wy);
    if (k.use_h) loss = loss + sum(r.h * wh);
    if (k.use_c) loss = loss + sum(r.c * wc);
    loss.backward();
    std::vector<Tensor> grads;
    for (const Tensor& t : all) {
      grads.push_back(t.requires_grad() ? t.grad() : Tensor());
      if (t.requires_grad()) t.set_grad({});
    }
    return std::pair{r, grads};
  };
  auto [fused, fused_grads] = run([&] { return lstm_layer(x, {h0, c0}, w_ih, w_hh, b_ih, b_hh, k.lengths, k.reverse); });
  auto [ref, ref_grads] =
      run([&] { return composed_layer(x, {h0, c0}, w_ih, w_hh, b_ih, b_hh, k.lengths, k.reverse); });
  expect_near(fused.y, ref.y, "y", k.tol);
  expect_near(fused.h, ref.h, "h", k.tol);
  expect_near(fused.c, ref.c, "c", k.tol);
  for (size_t i = 0; i < all.size(); ++i) {
    expect_near(fused_grads[i], ref_grads[i], "gradient of input " + std::to_string(i), k.tol);
    if (all[i].requires_grad()) {
      EXPECT_TRUE(fused_grads[i].defined()) << "gradient of input " << i;
    }
  }
}

TEST(LstmLayer, MatchesComposedCells) { check_against_composed({}); }

TEST(LstmLayer, MatchesComposedCellsReverse) { check_against_composed({.reverse = true}); }

TEST(LstmLayer, LengthsKeepTheStateAndZeroTheOutput) {
  check_against_composed({.lengths = {5, 2, 0, 3}});
  check_against_composed({.lengths = {5, 2, 0, 3}, .reverse = true});
  check_against_composed({.lengths = {1, 1, 1, 1}, .reverse = true});
}

TEST(LstmLayer, MissingBiases) {
  check_against_composed({.bias_ih = false, .bias_hh = false});
  check_against_composed({.lengths = {2, 5, 4, 1}, .bias_ih = false});
  check_against_composed({.reverse = true, .bias_hh = false});
}

TEST(LstmLayer, UnusedOutputs) {
  check_against_composed({.use_h = false, .use_c = false});
  check_against_composed({.use_y = false, .use_c = false});
  check_against_composed({.lengths = {3, 5, 1, 2}, .use_y = false, .use_h = false});
  check_against_composed({.lengths = {3, 5, 1, 2}, .reverse = true, .use_y = false});
}

TEST(LstmLayer, ConstantInputAndState) {
  check_against_composed({.grad_x = false, .grad_state = false});
  check_against_composed({.lengths = {4, 4, 2, 5}, .grad_state = false});
}

// With 2 threads and at least 4 rows a thread, the cpu recurrence gives each thread a share of the
// batch (kernels/ops.h, lstm_recurrence): in f32 on the cpu team of threads, in f64 on the
// reference kernels.
TEST(LstmLayer, BatchSharedAcrossThreadsMatchesComposedCells) {
  const ScopedThreads two(2);
  const Case wide{.steps = 4, .batch = 9, .input = 5, .hidden = 64};
  for (const DType dtype : {DType::f64, DType::f32}) {
    SCOPED_TRACE(std::string(name(dtype)));
    const double tol = dtype == DType::f32 ? 2e-5 : 1e-12;
    Case k = wide;
    k.dtype = dtype, k.tol = tol;
    check_against_composed(k);
    k.reverse = true;
    check_against_composed(k);
    k.lengths = {4, 1, 3, 4, 2, 0, 4, 3, 1};
    check_against_composed(k);
    k.reverse = false, k.bias_hh = false, k.use_y = false;
    check_against_composed(k);
  }
}

TEST(LstmLayer, OneStepIsOneCell) {
  Generator gen(5);
  Tensor x = randn({1, 2, 3}, DType::f64, gen), h = randn({2, 4}, DType::f64, gen), c = randn({2, 4}, DType::f64, gen);
  Tensor w_ih = randn({16, 3}, DType::f64, gen), w_hh = randn({16, 4}, DType::f64, gen);
  LstmLayerOutput r = lstm_layer(x, {h, c}, w_ih, w_hh);
  LstmState s = lstm_cell(x.select(0, 0), {h, c}, w_ih, w_hh);
  expect_near(r.y.select(0, 0), s.h, "y");
  expect_near(r.h, s.h, "h");
  expect_near(r.c, s.c, "c");
}

TEST(LstmLayer, StridedInputAndInference) {
  // A batch-first tensor seen time-major, and no autograd at all: the same values.
  Generator gen(6);
  Tensor xb = randn({3, 4, 2}, DType::f64, gen), h = zeros({3, 5}, DType::f64), c = zeros({3, 5}, DType::f64);
  Tensor w_ih = randn({20, 2}, DType::f64, gen), w_hh = randn({20, 5}, DType::f64, gen);
  Tensor b = randn({20}, DType::f64, gen);
  LstmLayerOutput r = lstm_layer(xb.transpose(0, 1), {h, c}, w_ih, w_hh, b, b, {4, 1, 3});
  LstmLayerOutput ref = composed_layer(xb.transpose(0, 1).contiguous(), {h, c}, w_ih, w_hh, b, b, {4, 1, 3}, false);
  expect_near(r.y, ref.y, "y");
  expect_near(r.h, ref.h, "h");
  EXPECT_FALSE(r.y.requires_grad());
}

TEST(LstmLayerErrors, BadInputs) {
  const Tensor x = zeros({4, 2, 3}), h = zeros({2, 5}), c = zeros({2, 5}), w_ih = zeros({20, 3}), w_hh = zeros({20, 5});
  EXPECT_EQ(error_of([&] { lstm_layer(zeros({2, 3}), {h, c}, w_ih, w_hh); }),
            "lstm_layer: input must be [time, batch, features], got [2, 3]");
  EXPECT_EQ(error_of([&] { lstm_layer(zeros({4, 2, 3}, DType::i64), {h, c}, w_ih, w_hh); }),
            "lstm_layer: input must be f32 or f64, got i64 [4, 2, 3]");
  EXPECT_EQ(error_of([&] { lstm_layer(zeros({0, 2, 3}), {h, c}, w_ih, w_hh); }),
            "lstm_layer: input [0, 2, 3] has no time steps or no sequences");
  EXPECT_EQ(error_of([&] { lstm_layer(x, {zeros({3, 5}), c}, w_ih, w_hh); }),
            "lstm_layer: h0 must be [2, hidden] for input [4, 2, 3], got [3, 5]");
  EXPECT_EQ(error_of([&] { lstm_layer(x, {h, zeros({2, 4})}, w_ih, w_hh); }),
            "lstm_layer: c0 must be [2, 5] like h0, got [2, 4]");
  EXPECT_EQ(error_of([&] { lstm_layer(x, {h, c}, zeros({20, 4}), w_hh); }),
            "lstm_layer: w_ih must be [20, 3] for input [4, 2, 3] and state [2, 5], got [20, 4]");
  EXPECT_EQ(error_of([&] { lstm_layer(x, {h, c}, w_ih, zeros({16, 5})); }),
            "lstm_layer: w_hh must be [20, 5] for state [2, 5], got [16, 5]");
  EXPECT_EQ(error_of([&] { lstm_layer(x, {h, c}, w_ih, w_hh, zeros({20}), zeros({19})); }),
            "lstm_layer: b_hh must be [20] for state [2, 5], got [19]");
  EXPECT_EQ(error_of([&] { lstm_layer(x, {h, c}, w_ih, zeros({20, 5}, DType::f64)); }),
            "lstm_layer: w_hh is f64 [20, 5], the input is f32 [4, 2, 3]");
  EXPECT_EQ(error_of([&] { lstm_layer(x, {h, c}, w_ih, w_hh, {}, {}, {1}); }),
            "lstm_layer: 1 lengths given for a batch of 2 (input [4, 2, 3])");
  EXPECT_EQ(error_of([&] { lstm_layer(x, {h, c}, w_ih, w_hh, {}, {}, {2, 5}); }),
            "lstm_layer: length 5 of sequence 1 is outside [0, 4] (input [4, 2, 3])");
  EXPECT_EQ(error_of([&] { lstm_layer(x, {h, Tensor()}, w_ih, w_hh); }),
            "lstm_layer: input, state and weights must be defined");
}

}  // namespace

namespace testing {
namespace {

// Lengths in [0, T] that vary across the batch (one sequence the whole length, others shorter).
std::vector<int64_t> some_lengths(const Tensor& x) {
  std::vector<int64_t> lengths;
  for (int64_t b = 0; b < x.size(1); ++b) lengths.push_back(b == 0 ? x.size(0) : (2 * b + 1) % (x.size(0) + 1));
  return lengths;
}

Inputs layer_inputs(CaseGen& g, bool bias) {
  int64_t t = g.dim(1, 4), b = g.dim(1, 3), i = g.dim(1, 3), h = g.dim(1, 3);
  Inputs in{g.normal({t, b, i}), g.normal({b, h}), g.normal({b, h}), g.normal({4 * h, i}, 0.5),
            g.normal({4 * h, h}, 0.5)};
  if (bias) in.insert(in.end(), {g.normal({4 * h}), g.normal({4 * h})});
  return in;
}

Outputs layer_outputs(const LstmLayerOutput& r) { return {r.y, r.h, r.c}; }

}  // namespace

DENDRITE_OP_CASES(lstm_layer){
    {.name = "lstm_layer",
     .inputs = [](CaseGen& g) { return layer_inputs(g, true); },
     .fn =
         [](const Inputs& in) {
           return layer_outputs(lstm_layer(in[0], {in[1], in[2]}, in[3], in[4], in[5], in[6]));
         }},
    {.name = "lstm_layer_lengths_reverse",
     .inputs = [](CaseGen& g) { return layer_inputs(g, true); },
     .fn =
         [](const Inputs& in) {
           return layer_outputs(
               lstm_layer(in[0], {in[1], in[2]}, in[3], in[4], in[5], in[6], some_lengths(in[0]), true));
         }},
    {.name = "lstm_layer_lengths_no_bias_final_state_only",
     .inputs = [](CaseGen& g) { return layer_inputs(g, false); },
     .fn =
         [](const Inputs& in) {
           LstmLayerOutput r = lstm_layer(in[0], {in[1], in[2]}, in[3], in[4], {}, {}, some_lengths(in[0]));
           return Outputs{r.h};
         }},
    {.name = "lstm_layer_transposed_input",
     .inputs =
         [](CaseGen& g) {
           Inputs in = layer_inputs(g, true);
           // The same shape, laid out as a transposed view (batch-first data read time-major).
           in[0] = g.normal({in[0].size(1), in[0].size(0), in[0].size(2)}).transpose(0, 1);
           return in;
         },
     .fn =
         [](const Inputs& in) {
           return layer_outputs(lstm_layer(in[0], {in[1], in[2]}, in[3], in[4], in[5], in[6]));
         }},
};

}  // namespace testing
}  // namespace dendrite
