// The cpu LSTM recurrence kernels (lstm_recurrence, lstm_recurrence_backward) against the reference
// backend on random inputs: two and four threads sharing the batch's rows (the OpenMP team path,
// with odd batches so that the shares differ), one thread (the serial loop), a batch too small to
// share, ragged lengths and reverse. Output buffers start with the same random values on both backends
// and are compared whole, so rows a kernel must leave untouched are checked too. Under
// MathPrecision::bf16 the team's products round to bf16 as the serial loop's do.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "dendrite/core/random.h"
#include "dendrite/core/threading.h"
#include "dendrite/kernels/precision.h"
#include "dendrite/kernels/registry.h"
#include "kernels/backend_compare.h"

namespace dendrite::kernels {
namespace {

using testing::clone;
using testing::random;
using testing::values;

struct Case {
  int64_t batch = 9;
  int threads = 2;
  std::vector<int64_t> lengths = {};
  bool reverse = false;
};

constexpr int64_t T = 5, H = 64;

std::string describe(const Case& k) {
  return fmt::format("batch {} threads {} lengths {} reverse {}", k.batch, k.threads, k.lengths.size(), k.reverse);
}

// A recurrence sums H products a step over T steps: f32 against the reference's double needs more
// room than one kernel call does.
void expect_close(const TensorBase& got, const TensorBase& want, const std::string& what) {
  const std::vector<double> g = values(got), w = values(want);
  ASSERT_EQ(g.size(), w.size()) << what;
  for (size_t i = 0; i < g.size(); ++i) ASSERT_NEAR(g[i], w[i], 2e-5 * (1.0 + std::abs(w[i]))) << what << ", " << i;
}

void check_forward(const Case& k) {
  const std::string where = describe(k);
  const ScopedThreads threads(k.threads);
  const int64_t B = k.batch;
  Generator gen(3);
  const TensorBase xg = random({T, B, 4 * H}, DType::f32, gen, 2.0);
  const TensorBase w_hh = random({4 * H, H}, DType::f32, gen, 0.2);
  const TensorBase state0 = random({T + 2, B, H}, DType::f32, gen), acts0 = random({T, B, 5 * H}, DType::f32, gen);
  const TensorBase hp0 = random({T, B, H}, DType::f32, gen), cp0 = random({T, B, H}, DType::f32, gen);
  struct Run {
    TensorBase state, acts, h_prev, c_prev;
  };
  auto run = [&](Backend backend) {
    Run r{clone(state0), clone(acts0), clone(hp0), clone(cp0)};
    Registry::global().find<OpId::lstm_recurrence>(backend, DType::f32)(xg, w_hh, k.lengths, k.reverse, r.state, r.acts,
                                                                        r.h_prev, r.c_prev);
    return r;
  };
  const Run cpu = run(Backend::cpu), ref = run(Backend::reference);
  expect_close(cpu.state, ref.state, where + " state");
  expect_close(cpu.acts, ref.acts, where + " acts");
  expect_close(cpu.h_prev, ref.h_prev, where + " h_prev");
  expect_close(cpu.c_prev, ref.c_prev, where + " c_prev");
}

void check_backward(const Case& k) {
  const std::string where = describe(k);
  const ScopedThreads threads(k.threads);
  const int64_t B = k.batch;
  Generator gen(4);
  // Activations and weights of a trained layer's size, so that the gradient neither explodes nor
  // vanishes over the steps and a relative tolerance means something.
  const TensorBase acts = random({T, B, 5 * H}, DType::f32, gen, 0.5), c_prev = random({T, B, H}, DType::f32, gen);
  const TensorBase w_hh = random({4 * H, H}, DType::f32, gen, 0.05), grad = random({T + 2, B, H}, DType::f32, gen);
  const TensorBase dgates0 = random({T, B, 4 * H}, DType::f32, gen);
  const TensorBase dh0 = random({B, H}, DType::f32, gen), dc0 = random({B, H}, DType::f32, gen);
  struct Run {
    TensorBase dgates, dh, dc;
  };
  auto run = [&](Backend backend) {
    Run r{clone(dgates0), clone(dh0), clone(dc0)};
    Registry::global().find<OpId::lstm_recurrence_backward>(backend, DType::f32)(acts, c_prev, w_hh, k.lengths,
                                                                                 k.reverse, grad, r.dgates, r.dh, r.dc);
    return r;
  };
  const Run cpu = run(Backend::cpu), ref = run(Backend::reference);
  expect_close(cpu.dgates, ref.dgates, where + " dgates");
  expect_close(cpu.dh, ref.dh, where + " dh");
  expect_close(cpu.dc, ref.dc, where + " dc");
}

std::vector<Case> cases() {
  std::vector<Case> all;
  for (const Case& layout :
       {Case{.batch = 9, .threads = 2}, Case{.batch = 9, .threads = 1}, Case{.batch = 6, .threads = 2}}) {
    const std::vector<int64_t> ragged{5, 2, 0, 3, 5, 1, 4, 5, 2};
    for (const std::vector<int64_t>& lengths :
         {std::vector<int64_t>{}, std::vector<int64_t>(ragged.begin(), ragged.begin() + layout.batch)}) {
      for (const bool reverse : {false, true}) {
        Case k = layout;
        k.lengths = lengths, k.reverse = reverse;
        all.push_back(k);
      }
    }
  }
  return all;
}

TEST(LstmRecurrenceKernel, CpuForwardMatchesReference) {
  for (const Case& k : cases()) check_forward(k);
}

TEST(LstmRecurrenceKernel, CpuBackwardMatchesReference) {
  for (const Case& k : cases()) check_backward(k);
}

double max_difference(const TensorBase& a, const TensorBase& b) {
  const std::vector<double> x = values(a), y = values(b);
  double most = 0.0;
  for (size_t i = 0; i < x.size(); ++i) most = std::max(most, std::abs(x[i] - y[i]));
  return most;
}

// One step (so that no rounding of h carries into a next product): the team's bf16 products
// (2 threads over 9 rows) against the serial loop's (1 thread, the matmul kernel's bf16 path
// with W_hh declared constant): both round the same operands and accumulate in f32, so they agree
// to f32 accumulation error, while both stand off the f32 result by bf16's rounding.
TEST(LstmRecurrenceKernel, Bf16TeamProductsMatchTheSerialLoop) {
  constexpr int64_t B = 9, steps = 1;
  Generator gen(5);
  const TensorBase xg = random({steps, B, 4 * H}, DType::f32, gen, 2.0);
  const TensorBase w_hh = random({4 * H, H}, DType::f32, gen, 1.0);
  const TensorBase state0 = random({steps + 2, B, H}, DType::f32, gen),
                   acts0 = random({steps, B, 5 * H}, DType::f32, gen);
  auto forward = [&](int threads, MathPrecision precision) {
    const ScopedThreads scoped_threads(threads);
    const ScopedMathPrecision scoped_precision(precision);
    TensorBase state = clone(state0), acts = clone(acts0);
    Registry::global().find<OpId::lstm_recurrence>(Backend::cpu, DType::f32)(xg, w_hh, {}, false, state, acts, {}, {});
    return acts;  // the gates of the one step, and tanh(c)
  };
  const TensorBase team = forward(2, MathPrecision::bf16), serial = forward(1, MathPrecision::bf16);
  const TensorBase f32 = forward(2, MathPrecision::f32);
  expect_close(team, serial, "forward: bf16 team against bf16 serial");
  EXPECT_GT(max_difference(team, f32), 1e-3) << "the team's forward products were not bf16";

  const TensorBase acts = random({steps, B, 5 * H}, DType::f32, gen, 0.5),
                   c_prev = random({steps, B, H}, DType::f32, gen);
  const TensorBase grad = random({steps + 2, B, H}, DType::f32, gen);
  auto backward = [&](int threads, MathPrecision precision) {
    const ScopedThreads scoped_threads(threads);
    const ScopedMathPrecision scoped_precision(precision);
    TensorBase dgates = TensorBase::empty({steps, B, 4 * H}), dh = TensorBase::empty({B, H});
    TensorBase dc = TensorBase::empty({B, H});
    Registry::global().find<OpId::lstm_recurrence_backward>(Backend::cpu, DType::f32)(acts, c_prev, w_hh, {}, false,
                                                                                      grad, dgates, dh, dc);
    return dh;  // dgates W_hh: the product
  };
  const TensorBase team_dh = backward(2, MathPrecision::bf16), serial_dh = backward(1, MathPrecision::bf16);
  const TensorBase f32_dh = backward(2, MathPrecision::f32);
  expect_close(team_dh, serial_dh, "backward: bf16 team against bf16 serial");
  EXPECT_GT(max_difference(team_dh, f32_dh), 1e-3) << "the team's backward products were not bf16";
}

}  // namespace
}  // namespace dendrite::kernels
