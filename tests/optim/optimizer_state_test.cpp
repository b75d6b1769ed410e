// Optimiser state: its names and contents, save and restore (bit-exact resume, validation that
// names the first bad entry and changes nothing), and the step loop's bookkeeping.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>

#include "optim/optim_test_util.h"
#include "support/errors.h"

namespace dendrite::optim {
namespace {

using test_support::error_of;
using testing::flat_values;
using testing::make_problem;
using testing::set_problem_grads;

std::vector<std::string> names_of(const nn::NamedTensors& state) {
  std::vector<std::string> out;
  for (const auto& [name, t] : state) out.push_back(name);
  return out;
}

nn::NamedTensors clone_all(const nn::NamedTensors& tensors) {
  nn::NamedTensors out;
  for (const auto& [name, t] : tensors) out.emplace_back(name, t.detach().clone());
  return out;
}

Tensor entry(const nn::NamedTensors& state, const std::string& name) {
  for (const auto& [n, t] : state) {
    if (n == name) return t;
  }
  throw std::runtime_error("no entry " + name);
}

TEST(OptimizerStateTest, NamesFollowParametersAndSlots) {
  nn::NamedTensors params = make_problem();
  EXPECT_TRUE(SGD(params, {.lr = 0.1}).state().empty());
  EXPECT_EQ(names_of(SGD(params, {.lr = 0.1, .momentum = 0.9}).state()),
            (std::vector<std::string>{"p0.momentum_buffer", "p0.step", "p1.momentum_buffer", "p1.step"}));
  EXPECT_EQ(names_of(Adagrad(params).state()), (std::vector<std::string>{"p0.sum", "p0.step", "p1.sum", "p1.step"}));
  EXPECT_EQ(names_of(Adam(params).state()), (std::vector<std::string>{"p0.exp_avg", "p0.exp_avg_sq", "p0.step",
                                                                      "p1.exp_avg", "p1.exp_avg_sq", "p1.step"}));
  EXPECT_EQ(names_of(AdamW(params, {.amsgrad = true}).state()),
            (std::vector<std::string>{"p0.exp_avg", "p0.exp_avg_sq", "p0.max_exp_avg_sq", "p0.step", "p1.exp_avg",
                                      "p1.exp_avg_sq", "p1.max_exp_avg_sq", "p1.step"}));
  for (const auto& [name, t] : Adam(params).state()) {
    if (name.ends_with(".step")) {
      EXPECT_EQ(t.shape(), Shape{});
      EXPECT_EQ(t.dtype(), DType::i64);
    } else {
      EXPECT_EQ(t.shape(), entry(params, name.substr(0, 2)).shape()) << name;
      EXPECT_EQ(t.dtype(), DType::f64) << name;
    }
  }
}

TEST(OptimizerStateTest, ContentsAfterOneStep) {
  nn::NamedTensors params = make_problem();
  Adagrad adagrad(params, {.initial_accumulator_value = 0.25});
  for (double v : to_vector<double>(entry(adagrad.state(), "p1.sum"))) EXPECT_EQ(v, 0.25);
  Adam adam(params, {.betas = {0.5, 0.75}});
  set_problem_grads(params, 0);
  const std::vector<double> g = to_vector<double>(params[0].second.grad());
  adam.step();
  const nn::NamedTensors state = adam.state();
  const std::vector<double> m = to_vector<double>(entry(state, "p0.exp_avg"));
  const std::vector<double> v = to_vector<double>(entry(state, "p0.exp_avg_sq"));
  for (size_t j = 0; j < g.size(); ++j) {
    EXPECT_DOUBLE_EQ(m[j], 0.5 * g[j]);
    EXPECT_DOUBLE_EQ(v[j], 0.25 * g[j] * g[j]);
  }
  EXPECT_EQ(entry(state, "p0.step").item<int64_t>(), 1);
  EXPECT_EQ(adam.step_count(), 1);
  EXPECT_EQ(adam.state_scalars(), (std::vector<std::pair<std::string, double>>{{"step", 1.0}, {"lr", 1e-3}}));
}

TEST(OptimizerStateTest, ParameterWithoutGradientIsSkipped) {
  nn::NamedTensors params = make_problem();
  Adam adam(params);
  set_problem_grads(params, 0, /*skip=*/true);  // p1 has no gradient at step 0
  const std::vector<double> before = to_vector<double>(params[1].second);
  adam.step();
  EXPECT_EQ(to_vector<double>(params[1].second), before);
  EXPECT_EQ(entry(adam.state(), "p1.step").item<int64_t>(), 0);
  EXPECT_EQ(entry(adam.state(), "p0.step").item<int64_t>(), 1);
  for (double v : to_vector<double>(entry(adam.state(), "p1.exp_avg"))) EXPECT_EQ(v, 0.0);
}

TEST(OptimizerStateTest, ZeroGradClearsGradients) {
  nn::NamedTensors params = make_problem();
  SGD sgd(params);
  set_problem_grads(params, 0);
  sgd.zero_grad();
  for (const auto& [name, p] : params) EXPECT_FALSE(p.grad().defined()) << name;
  sgd.step();  // no gradients: nothing changes, but the step is counted
  EXPECT_EQ(flat_values(params), flat_values(make_problem()));
  EXPECT_EQ(sgd.step_count(), 1);
}

TEST(OptimizerStateTest, EmptyParameterIsFine) {
  Tensor empty_param = zeros({0, 3}).requires_grad_();
  Tensor w = ones({2}).requires_grad_();
  Adam adam({{"empty", empty_param}, {"w", w}}, {.lr = 0.1});
  empty_param.set_grad(zeros({0, 3}));
  w.set_grad(ones({2}));
  adam.step();
  EXPECT_EQ(entry(adam.state(), "empty.exp_avg").shape(), (Shape{0, 3}));
  EXPECT_EQ(entry(adam.state(), "empty.step").item<int64_t>(), 1);
  EXPECT_NEAR(to_vector<float>(w)[0], 0.9f, 1e-6);
}

TEST(OptimizerStateTest, StepRecordsNoHistory) {
  nn::NamedTensors params = make_problem();
  Adam adam(params);
  set_problem_grads(params, 0);
  adam.step();
  for (const auto& [name, p] : params) {
    EXPECT_TRUE(p.is_leaf()) << name;
    EXPECT_TRUE(p.requires_grad()) << name;
  }
  EXPECT_TRUE(autograd::is_grad_enabled());
}

using Factory = std::function<std::unique_ptr<Optimizer>(nn::NamedTensors)>;

std::vector<std::pair<const char*, Factory>> resumable() {
  return {
      {"sgd",
       [](nn::NamedTensors p) {
         return std::make_unique<SGD>(std::move(p),
                                      SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
       }},
      {"adagrad",
       [](nn::NamedTensors p) {
         return std::make_unique<Adagrad>(std::move(p),
                                          AdagradOptions{.lr = 0.1, .lr_decay = 0.1, .initial_accumulator_value = 0.1});
       }},
      {"adam",
       [](nn::NamedTensors p) {
         return std::make_unique<Adam>(std::move(p), AdamOptions{.lr = 0.01, .weight_decay = 0.01, .amsgrad = true});
       }},
      {"adamw", [](nn::NamedTensors p) { return std::make_unique<AdamW>(std::move(p), AdamWOptions{.lr = 0.01}); }},
  };
}

// Fresh parameters holding the given values, as a checkpoint reader would make them.
nn::NamedTensors restored_params(const nn::NamedTensors& saved) {
  nn::NamedTensors out = clone_all(saved);
  for (auto& [name, p] : out) p.requires_grad_();
  return out;
}

TEST(OptimizerStateTest, RestoreThenStepIsBitExact) {
  for (DType dtype : {DType::f32, DType::f64}) {
    for (const auto& [label, make] : resumable()) {
      nn::NamedTensors straight = make_problem(dtype);
      std::unique_ptr<Optimizer> a = make(straight);
      for (int k = 0; k < 6; ++k) {
        set_problem_grads(straight, k, /*skip=*/true);
        a->step();
      }

      nn::NamedTensors first = make_problem(dtype);
      std::unique_ptr<Optimizer> b = make(first);
      for (int k = 0; k < 3; ++k) {
        set_problem_grads(first, k, /*skip=*/true);
        b->step();
      }
      const nn::NamedTensors saved_state = clone_all(b->state());
      const auto saved_scalars = b->state_scalars();
      const nn::NamedTensors saved_params = clone_all(first);
      b.reset();

      nn::NamedTensors resumed = restored_params(saved_params);
      std::unique_ptr<Optimizer> c = make(resumed);
      c->load_state(saved_state);
      c->load_state_scalars(saved_scalars);
      for (int k = 3; k < 6; ++k) {
        set_problem_grads(resumed, k, /*skip=*/true);
        c->step();
      }
      const std::string what = std::string(label) + " " + std::string(name(dtype));
      EXPECT_EQ(flat_values(resumed), flat_values(straight)) << what;
      EXPECT_EQ(c->step_count(), a->step_count()) << what;
      const nn::NamedTensors sa = a->state(), sc = c->state();
      ASSERT_EQ(names_of(sa), names_of(sc)) << what;
      for (size_t i = 0; i < sa.size(); ++i) {
        EXPECT_EQ(to_vector<double>(sa[i].second), to_vector<double>(sc[i].second)) << what << " " << sa[i].first;
      }
    }
  }
}

TEST(OptimizerStateTest, LoadedStateIsCopiedAndConverted) {
  nn::NamedTensors params64 = make_problem(DType::f64);
  Adam a(params64);
  set_problem_grads(params64, 0);
  a.step();
  nn::NamedTensors saved = clone_all(a.state());

  nn::NamedTensors params32 = make_problem(DType::f32);
  Adam b(params32);
  b.load_state(saved);
  const Tensor m = entry(b.state(), "p0.exp_avg");
  EXPECT_EQ(m.dtype(), DType::f32);
  const std::vector<float> loaded = to_vector<float>(m);
  fill_(entry(saved, "p0.exp_avg"), 7.0);  // the caller's tensors are not the optimiser's buffers
  EXPECT_EQ(to_vector<float>(entry(b.state(), "p0.exp_avg")), loaded);
  EXPECT_EQ(entry(b.state(), "p0.step").item<int64_t>(), 1);
  EXPECT_EQ(b.step_count(), 0) << "the step count travels in state_scalars";
}

TEST(OptimizerStateTest, StateFollowsParameterDtype) {
  // Module::to(dtype) swaps a parameter's storage in place, keeping its handles; do the same.
  nn::NamedTensors params = make_problem(DType::f32);
  Adam adam(params);
  set_problem_grads(params, 0);
  adam.step();
  for (auto& [name, p] : params) {
    Tensor converted = p.to(DType::f64);
    p.impl().storage = converted.storage();
    p.impl().strides = converted.strides();
    p.impl().offset = converted.offset();
    p.impl().dtype = DType::f64;
  }
  set_problem_grads(params, 1);
  adam.step();
  for (const auto& [name, t] : adam.state()) {
    if (!name.ends_with(".step")) {
      EXPECT_EQ(t.dtype(), DType::f64) << name;
    }
  }
}

TEST(OptimizerStateTest, NonContiguousParameterIsUpdatedInPlace) {
  // A transposed view as the parameter: updated through a contiguous copy, with the same result
  // as the contiguous parameter holding the same values.
  Tensor base = tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor view = base.t();
  view.requires_grad_();
  Tensor plain = view.contiguous().detach();
  plain.requires_grad_();
  const Tensor grad = tensor<float>({0.5f, -1, 2, 0.25f, 3, -2}, {3, 2});
  Adam a({{"view", view}}, {.lr = 0.1, .weight_decay = 0.1});
  Adam b({{"plain", plain}}, {.lr = 0.1, .weight_decay = 0.1});
  for (int k = 0; k < 3; ++k) {
    view.set_grad(grad);
    plain.set_grad(grad);
    a.step();
    b.step();
  }
  EXPECT_EQ(to_vector<float>(view), to_vector<float>(plain));
  EXPECT_EQ(to_vector<float>(base.t()), to_vector<float>(plain)) << "the update lands in the shared storage";
  EXPECT_NE(to_vector<float>(plain), (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(OptimizerStateTest, ThreadCountDoesNotChangeResults) {
  // Large enough to be split across threads (twice kParallelGrain), with an odd length so
  // that chunks end off the vector width.
  const int64_t n = 2 * kParallelGrain + 13;
  auto wave = [n](double phase) {
    std::vector<float> v(static_cast<size_t>(n));
    for (size_t j = 0; j < v.size(); ++j) v[j] = static_cast<float>(std::sin(0.37 * static_cast<double>(j) + phase));
    return tensor<float>(v);
  };
  auto run = [&](const auto& make, int threads) {
    const int saved = num_threads();
    set_num_threads(threads);
    Tensor p = wave(0.0);
    p.requires_grad_();
    std::unique_ptr<Optimizer> opt = make(nn::NamedTensors{{"p", p}});
    for (int k = 0; k < 3; ++k) {
      p.set_grad(wave(1.0 + k));
      opt->step();
    }
    set_num_threads(saved);
    return to_vector<float>(p);
  };
  for (const auto& [label, make] : resumable()) {
    EXPECT_EQ(run(make, 1), run(make, 2)) << label;
  }
}

TEST(OptimizerStateTest, LoadStateNamesTheFirstBadEntry) {
  nn::NamedTensors params = make_problem();
  Adam adam(params);
  set_problem_grads(params, 0);
  adam.step();
  const nn::NamedTensors good = clone_all(adam.state());
  const nn::NamedTensors before = clone_all(adam.state());

  auto without = [&](const std::string& name) {
    nn::NamedTensors s;
    for (const auto& [n, t] : good) {
      if (n != name) s.emplace_back(n, t);
    }
    return s;
  };
  auto replaced = [&](const std::string& name, const Tensor& value) {
    nn::NamedTensors s = good;
    for (auto& [n, t] : s) {
      if (n == name) t = value;
    }
    return s;
  };
  EXPECT_EQ(error_of([&] { adam.load_state(without("p1.exp_avg_sq")); }),
            "Adam load_state: missing entry 'p1.exp_avg_sq'");
  EXPECT_EQ(error_of([&] {
              adam.load_state(replaced("p0.exp_avg", zeros({3, 2}, DType::f64)));
            }),
            "Adam load_state: 'p0.exp_avg' has shape [3, 2] but parameter 'p0' has shape [2, 3]");
  EXPECT_EQ(error_of([&] {
              adam.load_state(replaced("p0.exp_avg", zeros({2, 3}, DType::i32)));
            }),
            "Adam load_state: 'p0.exp_avg' is i32 [2, 3]; expected a floating tensor");
  EXPECT_EQ(error_of([&] { adam.load_state(replaced("p1.step", scalar_tensor(-1, DType::i64))); }),
            "Adam load_state: 'p1.step' must be a non-negative integer, got -1");
  EXPECT_EQ(error_of([&] { adam.load_state(replaced("p1.step", scalar_tensor(2.5, DType::f64))); }),
            "Adam load_state: 'p1.step' must be a non-negative integer, got 2.5");
  EXPECT_EQ(error_of([&] { adam.load_state(replaced("p1.step", zeros({2}, DType::i64))); }),
            "Adam load_state: 'p1.step' must hold one number, got i64 [2]");
  EXPECT_EQ(error_of([&] { adam.load_state(replaced("p0.exp_avg", Tensor())); }),
            "Adam load_state: entry 'p0.exp_avg' is an undefined tensor");
  nn::NamedTensors extra = good;
  extra.emplace_back("p0.momentum_buffer", zeros({2, 3}, DType::f64));
  EXPECT_EQ(error_of([&] { adam.load_state(extra); }),
            "Adam load_state: unexpected entry 'p0.momentum_buffer' (this optimiser keeps exp_avg, exp_avg_sq, "
            "step per parameter)");
  nn::NamedTensors twice = good;
  twice.push_back(good[0]);
  EXPECT_EQ(error_of([&] { adam.load_state(twice); }), "Adam load_state: entry 'p0.exp_avg' appears twice");
  EXPECT_EQ(error_of([&] { SGD(params).load_state(good); }),
            "SGD load_state: unexpected entry 'p0.exp_avg' (this optimiser keeps no state per parameter)");
  // A checkpoint of another architecture: the first parameter that differs is named.
  nn::NamedTensors other = make_problem();
  other[1].first = "fc.bias";
  EXPECT_EQ(error_of([&] { Adam(other).load_state(good); }), "Adam load_state: missing entry 'fc.bias.exp_avg'");

  // None of the failed loads changed anything.
  const nn::NamedTensors after = adam.state();
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(to_vector<double>(before[i].second), to_vector<double>(after[i].second)) << before[i].first;
  }
  EXPECT_NO_THROW(adam.load_state(good));
}

TEST(OptimizerStateTest, LoadStateScalarsValidates) {
  nn::NamedTensors params = make_problem();
  SGD sgd(params);
  EXPECT_EQ(error_of([&] {
              sgd.load_state_scalars({{"step", 3}, {"lr", 0.1}, {"momentum", 0.9}});
            }),
            "SGD load_state_scalars: unexpected entry 'momentum' (expected step, lr)");
  EXPECT_EQ(error_of([&] { sgd.load_state_scalars({{"step", 3}}); }), "SGD load_state_scalars: missing entry 'lr'");
  EXPECT_EQ(error_of([&] { sgd.load_state_scalars({{"lr", 0.1}}); }), "SGD load_state_scalars: missing entry 'step'");
  EXPECT_EQ(error_of([&] {
              sgd.load_state_scalars({{"lr", 0.1}, {"lr", 0.2}, {"step", 1}});
            }),
            "SGD load_state_scalars: entry 'lr' appears twice");
  EXPECT_EQ(error_of([&] {
              sgd.load_state_scalars({{"step", -2}, {"lr", 0.1}});
            }),
            "SGD load_state_scalars: 'step' must be a non-negative integer, got -2");
  EXPECT_EQ(error_of([&] {
              sgd.load_state_scalars({{"step", 2}, {"lr", -0.1}});
            }),
            "SGD: lr must be a non-negative number, got -0.1");
  EXPECT_EQ(sgd.step_count(), 0);
  sgd.load_state_scalars({{"lr", 0.5}, {"step", 12}});
  EXPECT_EQ(sgd.step_count(), 12);
  EXPECT_EQ(sgd.lr(), 0.5);
}

}  // namespace
}  // namespace dendrite::optim
