// The fused recurrent cells against the same math composed from primitive ops (values and
// gradients), known values, and the errors their bad inputs give.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "dendrite/ops/ops.h"
#include "support/errors.h"

namespace dendrite {
namespace {

using test_support::error_of;

LstmState composed_lstm(const Tensor& gates, const Tensor& c) {
  const int64_t h = c.size(1);
  Tensor i = sigmoid(gates.narrow(1, 0, h)), f = sigmoid(gates.narrow(1, h, h));
  Tensor g = tanh(gates.narrow(1, 2 * h, h)), o = sigmoid(gates.narrow(1, 3 * h, h));
  Tensor c2 = f * c + i * g;
  return {o * tanh(c2), c2};
}

Tensor composed_gru(const Tensor& gx, const Tensor& gh, const Tensor& h) {
  const int64_t n = h.size(1);
  Tensor r = sigmoid(gx.narrow(1, 0, n) + gh.narrow(1, 0, n));
  Tensor z = sigmoid(gx.narrow(1, n, n) + gh.narrow(1, n, n));
  Tensor cand = tanh(gx.narrow(1, 2 * n, n) + r * gh.narrow(1, 2 * n, n));
  return (1.0 - z) * cand + z * h;
}

void expect_near(const Tensor& a, const Tensor& b, double tol) {
  std::vector<double> x = to_vector<double>(a), y = to_vector<double>(b);
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], tol) << "element " << i;
}

TEST(RnnCells, LstmFusedMatchesComposed) {
  Generator gen(3);
  Tensor gates = randn({5, 28}, DType::f64, gen).requires_grad_(), c = randn({5, 7}, DType::f64, gen).requires_grad_();
  Tensor w1 = randn({5, 7}, DType::f64, gen), w2 = randn({5, 7}, DType::f64, gen);
  LstmState fused = lstm_pointwise(gates, c);
  sum(fused.h * w1 + fused.c * w2).backward();
  Tensor gg = gates.grad(), gc = c.grad();
  gates.set_grad({});
  c.set_grad({});
  LstmState ref = composed_lstm(gates, c);
  sum(ref.h * w1 + ref.c * w2).backward();
  expect_near(fused.h, ref.h, 1e-12);
  expect_near(fused.c, ref.c, 1e-12);
  expect_near(gg, gates.grad(), 1e-12);
  expect_near(gc, c.grad(), 1e-12);
}

TEST(RnnCells, GruFusedMatchesComposed) {
  Generator gen(4);
  Tensor gx = randn({3, 12}, DType::f64, gen).requires_grad_(), gh = randn({3, 12}, DType::f64, gen).requires_grad_();
  Tensor h = randn({3, 4}, DType::f64, gen).requires_grad_(), w = randn({3, 4}, DType::f64, gen);
  sum(gru_pointwise(gx, gh, h) * w).backward();
  Tensor a = gx.grad(), b = gh.grad(), d = h.grad();
  for (const Tensor& t : {gx, gh, h}) t.set_grad({});
  Tensor ref = composed_gru(gx, gh, h);
  sum(ref * w).backward();
  expect_near(gru_pointwise(gx, gh, h), ref, 1e-12);
  expect_near(a, gx.grad(), 1e-12);
  expect_near(b, gh.grad(), 1e-12);
  expect_near(d, h.grad(), 1e-12);
}

TEST(RnnCells, LstmKnownValue) {
  // All gates 0: i = f = o = 1/2, g = 0, so c' = c / 2 and h' = tanh(c / 2) / 2.
  LstmState s = lstm_pointwise(zeros({1, 4}), full({1, 1}, 2.0));
  EXPECT_NEAR(s.c.item<double>(), 1.0, 1e-7);
  EXPECT_NEAR(s.h.item<double>(), std::tanh(1.0) / 2, 1e-7);
}

TEST(RnnCells, GruKnownValue) {
  // z = 1/2 and n = tanh(0) = 0 give h' = h / 2.
  EXPECT_NEAR(gru_pointwise(zeros({1, 3}), zeros({1, 3}), full({1, 1}, 3.0)).item<double>(), 1.5, 1e-7);
}

TEST(RnnCellErrors, LstmGatesNotMultipleOfFour) {
  EXPECT_EQ(error_of([] {
              lstm_pointwise(zeros({2, 6}), zeros({2, 1}));
            }),
            "lstm_pointwise: gates must be [batch, 4 * hidden], got [2, 6]");
}

TEST(RnnCellErrors, LstmStateShape) {
  EXPECT_EQ(error_of([] {
              lstm_pointwise(zeros({2, 8}), zeros({3, 2}));
            }),
            "lstm_pointwise: c must be [2, 2], got [3, 2]");
}

TEST(RnnCellErrors, IntegerGates) {
  EXPECT_CONTAINS(error_of([] {
                    lstm_pointwise(zeros({2, 8}, DType::i64), zeros({2, 2}, DType::i64));
                  }),
                  "lstm_pointwise: gates must be f32 or f64");
}

TEST(RnnCellErrors, GruStateDtype) {
  EXPECT_CONTAINS(error_of([] {
                    gru_pointwise(zeros({2, 6}), zeros({2, 6}), zeros({2, 2}, DType::f64));
                  }),
                  "gru_pointwise: h is f64 [2, 2], the gates are f32");
}

TEST(RnnCellErrors, LstmCellWeightShapes) {
  EXPECT_EQ(error_of([] {
              lstm_cell(zeros({2, 3}), {zeros({2, 4}), zeros({2, 4})}, zeros({16, 5}), zeros({16, 4}));
            }),
            "lstm_cell: w_ih must be [16, 3] for input [2, 3] and state [2, 4], got [16, 5]");
  EXPECT_EQ(error_of([] {
              gru_cell(zeros({2, 3}), zeros({2, 4}), zeros({12, 3}), zeros({12, 5}));
            }),
            "gru_cell: w_hh must be [12, 4] for state [2, 4], got [12, 5]");
  EXPECT_EQ(error_of([] {
              gru_cell(zeros({2, 3}), zeros({2, 4}), zeros({12, 3}), zeros({12, 4}), zeros({11}));
            }),
            "gru_cell: biases must be [12], got [11]");
  EXPECT_EQ(error_of([] {
              gru_cell(zeros({2, 3}), zeros({3, 4}), zeros({12, 3}), zeros({12, 4}));
            }),
            "gru_cell: state [3, 4] does not match input [2, 3]");
}

}  // namespace
}  // namespace dendrite
