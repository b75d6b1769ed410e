#include <gtest/gtest.h>

#include "dendrite/ops/ops.h"

namespace dendrite {
namespace {

std::vector<double> values(const Tensor& t) { return to_vector<double>(t); }

TEST(Autograd, ChainRuleThroughSharedInput) {
  Tensor x = tensor<double>({1.0, 2.0, 3.0}).requires_grad_();
  Tensor y = (x * x + x * 3.0).sum();  // dy/dx = 2x + 3
  y.backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{5.0, 7.0, 9.0}));
}

// An intermediate read by several nodes sums their gradients (in place when it owns the running
// sum); a gradient that add's backward hands to both of its inputs must not be changed by that sum.
TEST(Autograd, IntermediateReadManyTimesSumsWithoutAliasing) {
  Tensor x = tensor<double>({1.0, 2.0}).requires_grad_();
  Tensor w = tensor<double>({3.0, 5.0}).requires_grad_();
  Tensor h = x * 2.0;  // the intermediate
  Tensor a = h + w;    // add: the same gradient to h and w
  Tensor y = (a * 1.0 + h * h + h * 4.0).sum();
  y.backward();
  // dy/dh = 1 + 2h + 4 = 5 + 4x, dy/dx = 2 dy/dh; dy/dw = 1.
  EXPECT_EQ(values(x.grad()), (std::vector<double>{18.0, 26.0}));
  EXPECT_EQ(values(w.grad()), (std::vector<double>{1.0, 1.0}));
}

TEST(Autograd, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = tensor<double>({1.0, -2.0}).requires_grad_();
  (x * 2.0).sum().backward();
  (x * 2.0).sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{4.0, 4.0}));
  x.set_grad({});
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, BroadcastGradientIsSummedBack) {
  Tensor a = ones({2, 3}, DType::f64).requires_grad_();
  Tensor b = tensor<double>({1.0, 2.0, 3.0}).requires_grad_();
  (a * b).sum().backward();
  EXPECT_EQ(values(b.grad()), (std::vector<double>{2.0, 2.0, 2.0}));
  EXPECT_EQ(values(a.grad()), (std::vector<double>{1, 2, 3, 1, 2, 3}));
}

TEST(Autograd, NoGradGuardRecordsNothing) {
  Tensor x = ones({2}).requires_grad_();
  Tensor y;
  {
    autograd::NoGradGuard guard;
    y = x * 2.0;
  }
  EXPECT_FALSE(y.requires_grad());
  EXPECT_THROW(y.sum().backward(), Error);
}

TEST(Autograd, DetachCutsHistory) {
  Tensor x = ones({2}).requires_grad_();
  Tensor y = (x * 2.0).detach();
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(y.is_leaf());
}

TEST(Autograd, BackwardTwiceThroughFreedGraphNamesTheOp) {
  Tensor x = ones({3}).requires_grad_();
  Tensor y = x.exp().sum();
  y.backward();
  try {
    y.backward();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("second time"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("retain_graph"), std::string::npos) << e.what();
  }
}

TEST(Autograd, RetainGraphAllowsASecondBackward) {
  Tensor x = ones({3}).requires_grad_();
  Tensor y = x.exp().sum();
  y.backward({}, /*retain_graph=*/true);
  y.backward();
  EXPECT_NEAR(to_vector<double>(x.grad())[0], 2 * std::exp(1.0), 1e-5);
}

TEST(Autograd, NonScalarBackwardNeedsAGradient) {
  Tensor x = ones({2, 2}).requires_grad_();
  try {
    (x * 2.0).backward();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 2]"), std::string::npos) << e.what();
  }
  (x * 2.0).backward(ones({2, 2}));
  EXPECT_EQ(to_vector<float>(x.grad()), (std::vector<float>{2, 2, 2, 2}));
}

TEST(Autograd, LeafHookFiresOnceWithTheCompleteGradient) {
  Tensor w = ones({2}, DType::f64).requires_grad_();
  int calls = 0;
  std::vector<double> seen;
  w.register_hook([&](const TensorBase& g) {
    ++calls;
    seen = to_vector<double>(g);
    return TensorBase();
  });
  (w * 2.0 + w * 3.0).sum().backward();  // two paths into w
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, (std::vector<double>{5.0, 5.0}));
}

TEST(Autograd, HookOnIntermediateCanReplaceTheGradient) {
  Tensor x = ones({2}, DType::f64).requires_grad_();
  Tensor y = x * 2.0;
  y.register_hook([](const TensorBase& g) { return TensorBase(Tensor(g) * 10.0); });
  y.sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{20.0, 20.0}));
}

TEST(Autograd, UnusedBranchDoesNotLoseOtherGradients) {
  Tensor x = ones({2}, DType::f64).requires_grad_();
  Tensor frozen = ones({2}, DType::f64);
  Tensor y = (x * frozen + x).sum();
  y.backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{2.0, 2.0}));
}

TEST(Autograd, RequiresGradOnlyOnFloatingLeaves) {
  EXPECT_THROW(zeros({2}, DType::i64).requires_grad_(), Error);
  Tensor x = ones({2}).requires_grad_();
  Tensor y = x * 2.0;
  EXPECT_THROW(y.requires_grad_(false), Error);
}

TEST(Autograd, InPlaceUpdateOfLeafNeedsNoGrad) {
  Tensor w = ones({2}).requires_grad_();
  EXPECT_THROW(add_(w, ones({2})), Error);
  autograd::NoGradGuard guard;
  add_(w, ones({2}), 0.5);
  EXPECT_EQ(to_vector<float>(w), (std::vector<float>{1.5f, 1.5f}));
}

TEST(Autograd, LinearMatchesHandDerivation) {
  Tensor x = tensor<double>({1, 2, 3, 4}, {2, 2});
  Tensor w = tensor<double>({1, 0, 0, 1, 1, 1}, {3, 2}).requires_grad_();
  Tensor b = zeros({3}, DType::f64).requires_grad_();
  linear(x, w, b).sum().backward();
  // d/dW sum(x W^T) = 1^T x for every output row.
  EXPECT_EQ(values(w.grad()), (std::vector<double>{4, 6, 4, 6, 4, 6}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{2, 2, 2}));
}

}  // namespace
}  // namespace dendrite
