// The cpu LSTM step kernels (lstm_forward, lstm_backward) against the reference backend, on random
// inputs: odd hidden sizes (the vector loops' remainders), with and without the summed second
// half of the gates, saving or not, ragged lengths, in-place state, a row stride that is not the
// row width (lstm_pointwise's h' and c' share rows), a step other than the first, and a batch
// large enough to split across threads. Every output buffer starts with the same random values
// on both backends and is compared whole, so what a kernel must leave untouched is checked too.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "dendrite/core/random.h"
#include "dendrite/kernels/registry.h"
#include "kernels/backend_compare.h"

namespace dendrite::kernels {
namespace {

using testing::clone;
using testing::columns;
using testing::expect_close;
using testing::random;
using testing::values;

struct Case {
  int64_t steps = 3, batch = 5, hidden = 7, t = 1;
  bool sum = true, save = true, in_place = true, shared_rows = false;
  std::vector<int64_t> lengths = {};
};

std::string describe(const Case& k) {
  return fmt::format("T {} B {} H {} t {} sum {} save {} in_place {} shared_rows {} lengths {}", k.steps, k.batch,
                     k.hidden, k.t, k.sum, k.save, k.in_place, k.shared_rows, k.lengths.size());
}

// The state buffers of one backend: h and c each [B, H], either alone or as the two halves of
// one [B, 2H] buffer, as lstm_pointwise lays them out.
struct State {
  TensorBase buffer, h, c;
  State(const TensorBase& init, int64_t hidden, bool shared) : buffer(clone(init)) {
    if (shared) {
      h = columns(buffer, 0, hidden), c = columns(buffer, hidden, hidden);
    } else {
      h = buffer.as_strided({buffer.size(0) / 2, hidden}, {hidden, 1}, 0);
      c = buffer.as_strided({buffer.size(0) / 2, hidden}, {hidden, 1}, buffer.numel() / 2);
    }
  }
};

void check_forward(const Case& k, DType dtype) {
  const std::string where = describe(k) + " " + std::string(name(dtype));
  Generator gen(7 + static_cast<uint64_t>(k.hidden));
  const int64_t T = k.steps, B = k.batch, H = k.hidden;
  const TensorBase gates = random({T, B, 4 * H}, dtype, gen, 2.0);
  const TensorBase gates2 = k.sum ? random({B, 4 * H}, dtype, gen) : TensorBase();
  // Shared rows: [B, 2H]; otherwise h then c stacked in a [2B, H] buffer.
  const TensorBase state = random(k.shared_rows ? Shape{B, 2 * H} : Shape{2 * B, H}, dtype, gen);
  const TensorBase c_in = random({B, H}, dtype, gen);
  const TensorBase y0 = random({T, B, H}, dtype, gen), acts0 = random({T, B, 5 * H}, dtype, gen);
  const TensorBase hp0 = random({T, B, H}, dtype, gen), cp0 = random({T, B, H}, dtype, gen);

  struct Run {
    State s;
    TensorBase c_in, y, acts, h_prev, c_prev;
  };
  auto run = [&](Backend backend) {
    Run r{State(state, H, k.shared_rows), clone(c_in), clone(y0), k.save ? clone(acts0) : TensorBase(),
          k.save ? clone(hp0) : TensorBase(), k.save ? clone(cp0) : TensorBase()};
    const TensorBase& c = k.in_place ? r.s.c : r.c_in;
    auto fn = Registry::global().find<OpId::lstm_forward>(backend, dtype);
    EXPECT_NE(fn, nullptr) << where;
    fn(gates, gates2, c, k.t, k.lengths, r.s.h, r.s.c, r.y, r.acts, r.h_prev, r.c_prev);
    return r;
  };
  const Run got = run(Backend::cpu), want = run(Backend::reference);
  expect_close(got.s.buffer, want.s.buffer, where + ": h and c");
  expect_close(got.c_in, want.c_in, where + ": c input");
  expect_close(got.y, want.y, where + ": y");
  expect_close(got.acts, want.acts, where + ": acts");
  expect_close(got.h_prev, want.h_prev, where + ": h_prev");
  expect_close(got.c_prev, want.c_prev, where + ": c_prev");
}

void check_backward(const Case& k, DType dtype) {
  const std::string where = describe(k) + " " + std::string(name(dtype));
  Generator gen(11 + static_cast<uint64_t>(k.hidden));
  const int64_t T = k.steps, B = k.batch, H = k.hidden;
  // Activations as the forward saves them: sigmoids in (0, 1), g and tanh(c') in (-1, 1).
  TensorBase acts = TensorBase::empty({T, B, 5 * H}, dtype);
  fill_uniform(acts, -0.99, 0.99, gen);
  const TensorBase c_prev = random({T, B, H}, dtype, gen);
  const TensorBase dh2 = k.sum ? random({T, B, H}, dtype, gen) : TensorBase();
  const TensorBase grads = random(k.shared_rows ? Shape{B, 2 * H} : Shape{2 * B, H}, dtype, gen);
  const TensorBase dgates0 = random({T, B, 4 * H}, dtype, gen), dc0 = random({B, H}, dtype, gen);

  struct Run {
    State g;
    TensorBase dgates, dc_out;
  };
  auto run = [&](Backend backend) {
    Run r{State(grads, H, k.shared_rows), clone(dgates0), clone(dc0)};
    const TensorBase& dc_out = k.in_place ? r.g.c : r.dc_out;
    auto fn = Registry::global().find<OpId::lstm_backward>(backend, dtype);
    EXPECT_NE(fn, nullptr) << where;
    fn(acts, c_prev, r.g.h, dh2, r.g.c, k.t, k.lengths, r.dgates, dc_out);
    return r;
  };
  const Run got = run(Backend::cpu), want = run(Backend::reference);
  expect_close(got.g.buffer, want.g.buffer, where + ": dh and dc");
  expect_close(got.dgates, want.dgates, where + ": dgates");
  expect_close(got.dc_out, want.dc_out, where + ": dc_out");
}

std::vector<Case> cases() {
  std::vector<Case> all;
  for (int64_t hidden : {1, 7, 33}) {
    for (bool sum : {false, true}) {
      for (bool save : {false, true}) {
        all.push_back({.hidden = hidden, .sum = sum, .save = save});
        all.push_back({.hidden = hidden, .t = 2, .sum = sum, .save = save, .in_place = false, .shared_rows = true});
        all.push_back({.hidden = hidden, .t = 1, .sum = sum, .save = save, .lengths = {3, 1, 0, 2, 3}});
        all.push_back({.hidden = hidden, .t = 2, .sum = sum, .save = save, .in_place = false, .shared_rows = true,
                       .lengths = {3, 1, 0, 2, 3}});
      }
    }
  }
  // lstm_pointwise's form: one step, its own c, h' and c' in one [B, 2H] buffer.
  all.push_back({.steps = 1, .hidden = 33, .t = 0, .sum = false, .in_place = false, .shared_rows = true});
  // Enough values (B * H > kParallelGrain) for the rows to be split across threads.
  all.push_back({.steps = 1, .batch = 40, .hidden = 1025, .t = 0});
  return all;
}

TEST(LstmKernel, CpuForwardMatchesReference) {
  for (const Case& k : cases()) {
    check_forward(k, DType::f32);
    check_forward(k, DType::f64);
  }
}

TEST(LstmKernel, CpuBackwardMatchesReference) {
  for (const Case& k : cases()) {
    check_backward(k, DType::f32);
    check_backward(k, DType::f64);
  }
}

// The reference itself on values worked by hand: zero pre-activations give i = f = o = 1/2 and
// g = 0, so c' = c / 2 and h' = tanh(c') / 2.
TEST(LstmKernel, ReferenceOnHandValues) {
  TensorBase gates = TensorBase::empty({1, 4}, DType::f64), c = TensorBase::empty({1, 1}, DType::f64);
  std::memset(gates.raw_data(), 0, 4 * sizeof(double));
  *c.data_ptr<double>() = 2.0;
  TensorBase h = TensorBase::empty({1, 1}, DType::f64), acts = TensorBase::empty({1, 5}, DType::f64);
  Registry::global().find<OpId::lstm_forward>(Backend::reference, DType::f64)(gates, {}, c, 0, {}, h, c, {}, acts, {},
                                                                               {});
  EXPECT_DOUBLE_EQ(*c.data_ptr<double>(), 1.0);
  EXPECT_DOUBLE_EQ(*h.data_ptr<double>(), 0.5 * std::tanh(1.0));
  EXPECT_EQ(values(acts), (std::vector<double>{0.5, 0.5, 0.0, 0.5, std::tanh(1.0)}));
  // d h'/d c = o (1 - tanh(c')^2) f; d c'/d c = f.
  TensorBase dh = TensorBase::empty({1, 1}, DType::f64), dc = TensorBase::empty({1, 1}, DType::f64);
  *dh.data_ptr<double>() = 1.0;
  *dc.data_ptr<double>() = 0.0;
  TensorBase c_prev = TensorBase::empty({1, 1}, DType::f64), dgates = TensorBase::empty({1, 4}, DType::f64);
  *c_prev.data_ptr<double>() = 2.0;
  Registry::global().find<OpId::lstm_backward>(Backend::reference, DType::f64)(acts, c_prev, dh, {}, dc, 0, {}, dgates,
                                                                                dc);
  const double tc = std::tanh(1.0), dct = 0.5 * (1.0 - tc * tc);
  EXPECT_DOUBLE_EQ(*dc.data_ptr<double>(), dct * 0.5);
  EXPECT_EQ(values(dgates), (std::vector<double>{0.0, dct * 2.0 * 0.25, dct * 0.5, tc * 0.25}));
}

}  // namespace
}  // namespace dendrite::kernels
