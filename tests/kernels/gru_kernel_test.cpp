// The cpu GRU step kernels (gru_forward, gru_backward) against the reference backend, on random
// inputs: odd hidden sizes (the vector loops' remainders), in-place state, row strides that are not
// the row width (gx and gh as the two halves of one buffer), and a batch large enough to split
// across two threads. Every output buffer starts with the same random values on both backends and
// is compared whole, so what a kernel must leave untouched is checked too.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "dendrite/core/random.h"
#include "dendrite/core/threading.h"
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
  int64_t batch = 5, hidden = 7;
  bool in_place = false, shared_rows = false;
};

std::string describe(const Case& k) {
  return fmt::format("B {} H {} in_place {} shared_rows {}", k.batch, k.hidden, k.in_place, k.shared_rows);
}

// The projections gx and gh [B, 3H]: alone, or as the two halves of one [B, 6H] buffer.
struct Projections {
  TensorBase buffer, gx, gh;
  Projections(const TensorBase& init, int64_t hidden, bool shared) : buffer(clone(init)) {
    if (shared) {
      gx = columns(buffer, 0, 3 * hidden), gh = columns(buffer, 3 * hidden, 3 * hidden);
    } else {
      const int64_t batch = buffer.size(0) / 2;
      gx = buffer.as_strided({batch, 3 * hidden}, {3 * hidden, 1}, 0);
      gh = buffer.as_strided({batch, 3 * hidden}, {3 * hidden, 1}, batch * 3 * hidden);
    }
  }
};

Shape projection_shape(const Case& k) {
  return k.shared_rows ? Shape{k.batch, 6 * k.hidden} : Shape{2 * k.batch, 3 * k.hidden};
}

void check_forward(const Case& k, DType dtype) {
  const std::string where = describe(k) + " " + std::string(name(dtype));
  Generator gen(7 + static_cast<uint64_t>(k.hidden));
  const TensorBase proj = random(projection_shape(k), dtype, gen, 2.0);
  const TensorBase h0 = random({k.batch, k.hidden}, dtype, gen), out0 = random({k.batch, k.hidden}, dtype, gen);

  struct Run {
    TensorBase h, out;
  };
  auto run = [&](Backend backend) {
    const Projections p(proj, k.hidden, k.shared_rows);
    Run r{clone(h0), clone(out0)};
    auto fn = Registry::global().find<OpId::gru_forward>(backend, dtype);
    EXPECT_NE(fn, nullptr) << where;
    fn(p.gx, p.gh, r.h, k.in_place ? r.h : r.out);
    expect_close(p.buffer, proj, where + ": gx and gh unchanged");
    return r;
  };
  const Run got = run(Backend::cpu), want = run(Backend::reference);
  expect_close(got.h, want.h, where + ": h");
  expect_close(got.out, want.out, where + ": h_out");
}

void check_backward(const Case& k, DType dtype) {
  const std::string where = describe(k) + " " + std::string(name(dtype));
  Generator gen(11 + static_cast<uint64_t>(k.hidden));
  const TensorBase proj = random(projection_shape(k), dtype, gen, 2.0);
  const TensorBase h = random({k.batch, k.hidden}, dtype, gen), g0 = random({k.batch, k.hidden}, dtype, gen);
  const TensorBase dgx0 = random({k.batch, 3 * k.hidden}, dtype, gen), dgh0 = random({k.batch, 3 * k.hidden}, dtype, gen);
  const TensorBase dh0 = random({k.batch, k.hidden}, dtype, gen);

  struct Run {
    TensorBase g, dgx, dgh, dh;
  };
  auto run = [&](Backend backend) {
    const Projections p(proj, k.hidden, k.shared_rows);
    Run r{clone(g0), clone(dgx0), clone(dgh0), clone(dh0)};
    auto fn = Registry::global().find<OpId::gru_backward>(backend, dtype);
    EXPECT_NE(fn, nullptr) << where;
    fn(p.gx, p.gh, h, r.g, r.dgx, r.dgh, k.in_place ? r.g : r.dh);
    return r;
  };
  const Run got = run(Backend::cpu), want = run(Backend::reference);
  expect_close(got.g, want.g, where + ": dh_out");
  expect_close(got.dgx, want.dgx, where + ": dgx");
  expect_close(got.dgh, want.dgh, where + ": dgh");
  expect_close(got.dh, want.dh, where + ": dh");
}

std::vector<Case> cases() {
  std::vector<Case> all;
  for (int64_t hidden : {1, 7, 33}) {
    for (bool in_place : {false, true}) {
      for (bool shared_rows : {false, true}) {
        all.push_back({.hidden = hidden, .in_place = in_place, .shared_rows = shared_rows});
      }
    }
  }
  return all;
}

// Runs check on every case in f32 and f64, then on a batch with enough values
// (B * H > kParallelGrain) for the rows to be split across two threads.
void check_all(void (*check)(const Case&, DType)) {
  for (const Case& k : cases()) {
    check(k, DType::f32);
    check(k, DType::f64);
  }
  const ScopedThreads two(2);
  for (DType dtype : {DType::f32, DType::f64}) check({.batch = 40, .hidden = 1025}, dtype);
}

TEST(GruKernel, CpuForwardMatchesReference) { check_all(check_forward); }

TEST(GruKernel, CpuBackwardMatchesReference) { check_all(check_backward); }

TensorBase one_row(const std::vector<double>& v) {
  TensorBase t = TensorBase::empty({1, static_cast<int64_t>(v.size())}, DType::f64);
  std::memcpy(t.raw_data(), v.data(), v.size() * sizeof(double));
  return t;
}

// The reference itself on values worked by hand. With gx = 0 and gh = (0, 0, 2): r = z = 1/2 and
// n = tanh(1), so h' = tanh(1) / 2 + h / 2.
TEST(GruKernel, ReferenceOnHandValues) {
  const TensorBase gx = one_row({0.0, 0.0, 0.0}), gh = one_row({0.0, 0.0, 2.0}), h = one_row({3.0});
  TensorBase out = one_row({0.0});
  Registry::global().find<OpId::gru_forward>(Backend::reference, DType::f64)(gx, gh, h, out);
  const double n = std::tanh(1.0);
  EXPECT_DOUBLE_EQ(*out.data_ptr<double>(), 0.5 * n + 1.5);
  // With dh' = 1: dn = (1 - z)(1 - n^2), dz = (h - n) z (1 - z), dr = dn gh_n r (1 - r), dh = z.
  const TensorBase g = one_row({1.0});
  TensorBase dgx = one_row({0.0, 0.0, 0.0}), dgh = one_row({0.0, 0.0, 0.0}), dh = one_row({0.0});
  Registry::global().find<OpId::gru_backward>(Backend::reference, DType::f64)(gx, gh, h, g, dgx, dgh, dh);
  const double dn = 0.5 * (1.0 - n * n), dz = (3.0 - n) * 0.25, dr = dn * 2.0 * 0.25;
  const std::vector<double> want_dgx{dr, dz, dn}, want_dgh{dr, dz, 0.5 * dn}, got_dgx = values(dgx),
      got_dgh = values(dgh);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_DOUBLE_EQ(got_dgx[i], want_dgx[i]) << i;
    EXPECT_DOUBLE_EQ(got_dgh[i], want_dgh[i]) << i;
  }
  EXPECT_DOUBLE_EQ(*dh.data_ptr<double>(), 0.5);
}

}  // namespace
}  // namespace dendrite::kernels
