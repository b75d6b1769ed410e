// End to end through autograd: each optimiser drives a least-squares problem to its solution,
// with gradients from backward() rather than set by hand.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "optim/optim_test_util.h"

namespace dendrite::optim {
namespace {

TEST(ConvergenceTest, EveryOptimiserSolvesLeastSquares) {
  // minimise mean((x w - y)^2) for w in R^3; y = x w* exactly, so the minimum is w* with loss 0.
  const Tensor x = tensor<float>({1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, -1, 2}, {5, 3});
  const Tensor w_star = tensor<float>({0.5f, -1.0f, 2.0f}, {3, 1});
  const Tensor y = x.matmul(w_star);
  using Make = std::function<std::unique_ptr<Optimizer>(nn::NamedTensors)>;
  const std::vector<std::pair<const char*, Make>> makers = {
      {"SGD",
       [](nn::NamedTensors p) {
         return std::make_unique<SGD>(std::move(p), SGDOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true});
       }},
      {"Adagrad",
       [](nn::NamedTensors p) { return std::make_unique<Adagrad>(std::move(p), AdagradOptions{.lr = 0.5}); }},
      {"Adam", [](nn::NamedTensors p) { return std::make_unique<Adam>(std::move(p), AdamOptions{.lr = 0.05}); }},
      {"AdamW",
       [](nn::NamedTensors p) {
         return std::make_unique<AdamW>(std::move(p), AdamWOptions{.lr = 0.05, .weight_decay = 0.0});
       }},
  };
  for (const auto& [label, make] : makers) {
    Tensor w = zeros({3, 1}).requires_grad_();
    std::unique_ptr<Optimizer> opt = make({{"w", w}});
    float loss = 0;
    for (int k = 0; k < 400; ++k) {
      opt->zero_grad();
      Tensor diff = x.matmul(w) - y;
      Tensor l = mean(diff * diff);
      l.backward();
      clip_grad_norm_(opt->params(), 10.0);
      opt->step();
      loss = l.item<float>();
    }
    EXPECT_LT(loss, 1e-4f) << label;
    const std::vector<float> got = to_vector<float>(w);
    const std::vector<float> want = to_vector<float>(w_star);
    for (size_t j = 0; j < 3; ++j) EXPECT_NEAR(got[j], want[j], 2e-2) << label << " w[" << j << "]";
  }
}

}  // namespace
}  // namespace dendrite::optim
