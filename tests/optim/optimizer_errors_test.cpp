// Every argument check of the optimisers' constructors and set_lr, with its exact message.
#include <gtest/gtest.h>

#include <limits>

#include "optim/optim_test_util.h"
#include "support/errors.h"

namespace dendrite::optim {
namespace {

using test_support::error_of;
using testing::make_problem;

TEST(OptimizerErrorsTest, Parameters) {
  EXPECT_EQ(error_of([] { SGD({}, {}); }), "SGD: got an empty parameter list");
  EXPECT_EQ(error_of([] { Adam({{"w", zeros({2, 3})}}); }), "Adam: parameter 'w' (f32 [2, 3]) does not require grad");
  Tensor w = zeros({2}).requires_grad_();
  Tensor b = zeros({3}).requires_grad_();
  EXPECT_EQ(error_of([&] { Adagrad({{"w", w}, {"b", b}, {"w", b}}); }), "Adagrad: parameter name 'w' appears twice");
  EXPECT_EQ(error_of([&] { AdamW({{"w", w}, {"tied", w}}); }), "AdamW: parameters 'w' and 'tied' are the same tensor");
  EXPECT_EQ(error_of([&] { SGD({{"w", Tensor()}}); }), "SGD: parameter 'w' is an undefined tensor");
  Tensor half = zeros({4}, DType::bf16);
  EXPECT_EQ(error_of([&] {
              SGD({{"h", half}});
            }),
            "SGD: parameter 'h' is bf16 [4]; optimisers update f32 or f64 parameters");
  Tensor ints = zeros({4}, DType::i64);
  EXPECT_EQ(error_of([&] {
              SGD({{"i", ints}});
            }),
            "SGD: parameter 'i' is i64 [4]; optimisers update f32 or f64 parameters");
}

TEST(OptimizerErrorsTest, LearningRate) {
  nn::NamedTensors p = make_problem();
  EXPECT_EQ(error_of([&] { SGD(p, {.lr = -0.1}); }), "SGD: lr must be a non-negative number, got -0.1");
  EXPECT_EQ(error_of([&] { Adagrad(p, {.lr = -1}); }), "Adagrad: lr must be a non-negative number, got -1");
  EXPECT_EQ(error_of([&] { Adam(p, {.lr = std::numeric_limits<double>::quiet_NaN()}); }),
            "Adam: lr must be a non-negative number, got nan");
  EXPECT_EQ(error_of([&] { AdamW(p, {.lr = std::numeric_limits<double>::infinity()}); }),
            "AdamW: lr must be a non-negative number, got inf");
  SGD sgd(p);
  EXPECT_EQ(error_of([&] { sgd.set_lr(-0.5); }), "SGD: lr must be a non-negative number, got -0.5");
  EXPECT_EQ(sgd.lr(), 0.01);
  sgd.set_lr(0.0);
  EXPECT_EQ(sgd.lr(), 0.0);
}

TEST(OptimizerErrorsTest, SGDOptions) {
  nn::NamedTensors p = make_problem();
  EXPECT_EQ(error_of([&] { SGD(p, {.momentum = -0.9}); }), "SGD: momentum must be non-negative, got -0.9");
  EXPECT_EQ(error_of([&] { SGD(p, {.dampening = std::numeric_limits<double>::infinity()}); }),
            "SGD: dampening must be a finite number, got inf");
  EXPECT_EQ(error_of([&] { SGD(p, {.weight_decay = -1e-4}); }), "SGD: weight_decay must be non-negative, got -0.0001");
  EXPECT_EQ(error_of([&] { SGD(p, {.nesterov = true}); }),
            "SGD: nesterov requires momentum > 0 and dampening = 0, got momentum 0 and dampening 0");
  EXPECT_EQ(error_of([&] { SGD(p, {.momentum = 0.9, .dampening = 0.1, .nesterov = true}); }),
            "SGD: nesterov requires momentum > 0 and dampening = 0, got momentum 0.9 and dampening 0.1");
}

TEST(OptimizerErrorsTest, AdagradOptions) {
  nn::NamedTensors p = make_problem();
  EXPECT_EQ(error_of([&] { Adagrad(p, {.lr_decay = -1}); }), "Adagrad: lr_decay must be non-negative, got -1");
  EXPECT_EQ(error_of([&] { Adagrad(p, {.weight_decay = -1}); }), "Adagrad: weight_decay must be non-negative, got -1");
  EXPECT_EQ(error_of([&] { Adagrad(p, {.initial_accumulator_value = -0.5}); }),
            "Adagrad: initial_accumulator_value must be non-negative, got -0.5");
  EXPECT_EQ(error_of([&] { Adagrad(p, {.eps = -1e-10}); }), "Adagrad: eps must be non-negative, got -1e-10");
}

TEST(OptimizerErrorsTest, AdamOptions) {
  nn::NamedTensors p = make_problem();
  EXPECT_EQ(error_of([&] { Adam(p, {.betas = {1.0, 0.999}}); }), "Adam: betas[0] must be in [0, 1), got 1");
  EXPECT_EQ(error_of([&] { Adam(p, {.betas = {0.9, -0.1}}); }), "Adam: betas[1] must be in [0, 1), got -0.1");
  EXPECT_EQ(error_of([&] { AdamW(p, {.betas = {0.9, 1.5}}); }), "AdamW: betas[1] must be in [0, 1), got 1.5");
  EXPECT_EQ(error_of([&] { Adam(p, {.eps = -1e-8}); }), "Adam: eps must be non-negative, got -1e-08");
  EXPECT_EQ(error_of([&] { Adam(p, {.weight_decay = -0.01}); }), "Adam: weight_decay must be non-negative, got -0.01");
  EXPECT_EQ(error_of([&] { AdamW(p, {.weight_decay = -0.01}); }),
            "AdamW: weight_decay must be non-negative, got -0.01");
}

TEST(OptimizerErrorsTest, ParameterConvertedToUnsupportedDtype) {
  nn::NamedTensors p = make_problem(DType::f32);
  SGD sgd(p);
  Tensor converted = p[1].second.to(DType::bf16);
  p[1].second.impl().storage = converted.storage();  // as Module::to(bf16) would
  p[1].second.impl().dtype = DType::bf16;
  testing::set_problem_grads({p[0]}, 0);
  p[1].second.set_grad(ones({4}, DType::bf16));
  const std::vector<float> before = to_vector<float>(p[0].second);
  EXPECT_EQ(error_of([&] { sgd.step(); }), "SGD: parameter 'p1' is bf16 [4]; optimisers update f32 or f64 parameters");
  EXPECT_EQ(to_vector<float>(p[0].second), before) << "a failed step changes no parameter";
  EXPECT_EQ(sgd.step_count(), 0);
}

}  // namespace
}  // namespace dendrite::optim
