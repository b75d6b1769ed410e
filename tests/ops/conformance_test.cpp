// Runs every entry of the conformance table (conformance.h): each fast backend against the
// reference backend, and a finite-difference gradcheck in f64.
#include <gtest/gtest.h>

#include <cmath>

#include "conformance.h"
#include "dendrite/core/strided_loop.h"
#include "dendrite/kernels/registry.h"

namespace dendrite::testing {
namespace {

using kernels::Backend;
using kernels::ScopedBackend;

struct CaseRun {
  std::vector<std::vector<double>> outputs;
  std::vector<Shape> output_shapes;
  std::vector<std::vector<double>> grads;  // one per input; empty when it has no gradient
};

bool is_differentiable_input(const OpCase& c, const Inputs& in, size_t i) {
  if (!is_floating(in[i].dtype())) return false;
  for (size_t k : c.constant_inputs) {
    if (k == i) return false;
  }
  return true;
}

// sum_i sum(out_i * w_i) with fixed random weights, so every output element matters.
Tensor weighted_loss(const Outputs& outs, uint64_t seed) {
  Generator gen(seed ^ 0x9e3779b97f4a7c15ULL);
  Tensor loss;
  for (const Tensor& out : outs) {
    if (!is_floating(out.dtype())) continue;
    Tensor w = normal(out.shape(), 0.0, 1.0, out.dtype(), gen);
    Tensor term = sum(out * w);
    loss = loss.defined() ? loss + term : term;
  }
  return loss;
}

CaseRun run_case(const OpCase& c, uint64_t seed, DType dtype, std::vector<Backend> order) {
  ScopedBackend backend(std::move(order));
  CaseGen gen(seed, dtype);
  Inputs in = c.inputs(gen);
  if (c.differentiable) {
    for (size_t i = 0; i < in.size(); ++i) {
      if (is_differentiable_input(c, in, i)) in[i].requires_grad_();
    }
  }
  Outputs outs = c.fn(in);
  CaseRun run;
  for (const Tensor& out : outs) {
    run.outputs.push_back(to_vector<double>(out));
    run.output_shapes.push_back(out.shape());
  }
  if (c.differentiable) {
    Tensor loss = weighted_loss(outs, seed);
    if (loss.defined() && loss.requires_grad()) loss.backward();
    for (const Tensor& t : in) {
      Tensor g = t.requires_grad() ? t.grad() : Tensor();
      run.grads.push_back(g.defined() ? to_vector<double>(g) : std::vector<double>{});
    }
  }
  return run;
}

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double rtol, double atol,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    bool both_nan = std::isnan(got[i]) && std::isnan(want[i]);
    if (both_nan || std::abs(got[i] - want[i]) <= atol + rtol * std::abs(want[i])) continue;
    ADD_FAILURE() << what << " element " << i << ": got " << got[i] << ", reference " << want[i];
    if (++reported == 5) return;
  }
}

class Conformance : public ::testing::TestWithParam<OpCase> {};

TEST_P(Conformance, FastBackendsMatchReference) {
  const OpCase& c = GetParam();
  for (Backend backend : {Backend::cpu}) {
    for (int trial = 0; trial < c.trials; ++trial) {
      const uint64_t seed = 1000 + static_cast<uint64_t>(trial);
      CaseRun want = run_case(c, seed, DType::f32, {Backend::reference});
      CaseRun got = run_case(c, seed, DType::f32, {backend, Backend::reference});
      std::string where = fmt::format("{} on {} (trial {})", c.name, kernels::name(backend), trial);
      ASSERT_EQ(got.outputs.size(), want.outputs.size()) << where;
      for (size_t i = 0; i < got.outputs.size(); ++i) {
        EXPECT_EQ(got.output_shapes[i], want.output_shapes[i]) << where;
        expect_close(got.outputs[i], want.outputs[i], c.rtol, c.atol, where + fmt::format(" output {}", i));
      }
      for (size_t i = 0; i < got.grads.size(); ++i) {
        expect_close(got.grads[i], want.grads[i], c.rtol, c.atol, where + fmt::format(" gradient of input {}", i));
      }
    }
  }
}

// Central finite differences of the weighted loss, element by element, against backward().
TEST_P(Conformance, GradcheckInDoubleOnReference) {
  const OpCase& c = GetParam();
  if (!c.differentiable) GTEST_SKIP() << c.name << " is not differentiable";
  if (!c.gradcheck) GTEST_SKIP() << c.name << ": finite differences do not apply (see the case's comment)";
  ScopedBackend backend({Backend::reference});
  for (int trial = 0; trial < c.trials; ++trial) {
    const uint64_t seed = 2000 + static_cast<uint64_t>(trial);
    CaseRun analytic = run_case(c, seed, DType::f64, {Backend::reference});
    CaseGen gen(seed, DType::f64);
    Inputs in = c.inputs(gen);
    auto loss_value = [&] {
      autograd::NoGradGuard no_grad;
      Tensor loss = weighted_loss(c.fn(in), seed);
      return loss.item<double>();
    };
    for (size_t k = 0; k < in.size(); ++k) {
      if (!is_differentiable_input(c, in, k)) continue;
      const Tensor& x = in[k];
      double* base = static_cast<double*>(x.storage().data()) + x.offset();
      std::vector<double> numeric;
      for_each_offset(x.shape(), {x.strides()}, [&](const int64_t* o) {
        double saved = base[o[0]];
        base[o[0]] = saved + c.gradcheck_eps;
        double plus = loss_value();
        base[o[0]] = saved - c.gradcheck_eps;
        double minus = loss_value();
        base[o[0]] = saved;
        numeric.push_back((plus - minus) / (2 * c.gradcheck_eps));
      });
      ASSERT_EQ(analytic.grads[k].size(), numeric.size())
          << c.name << ": input " << k << " received no gradient";
      expect_close(analytic.grads[k], numeric, 1e-3, c.gradcheck_tol,
                   fmt::format("{} gradcheck of input {} (trial {})", c.name, k, trial));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, Conformance, ::testing::ValuesIn(op_cases()),
                         [](const ::testing::TestParamInfo<OpCase>& info) { return info.param.name; });

}  // namespace
}  // namespace dendrite::testing
