// Module bookkeeping: names and order of parameters and buffers, mode propagation, in-place dtype
// conversion, gradients, the printed tree, and Sequential's construction and indexing.
#include "nn_test_util.h"

namespace dendrite::nn {
namespace {

using testing::names_of;

// A module with a child registered by hand, as a user-written model would.
class Block : public Module {
 public:
  Block() {
    scale = register_parameter("scale", ones({4}));
    body = register_module("body", std::make_shared<Sequential>(Linear(4, 4), Identity()));
  }
  Tensor forward(const Tensor& x) override { return body->forward(x) * scale; }
  std::string name() const override { return "Block"; }

  Tensor scale;
  std::shared_ptr<Sequential> body;
};

TEST(Module, NestedSequentialNamesInRegistrationOrder) {
  Sequential inner{Linear(3, 4), ReLU(), Linear(4, 5, false)};
  Sequential net{Conv2d(1, 2, 3), BatchNorm2d(2), std::make_shared<Sequential>(std::move(inner)), Linear(5, 1)};
  EXPECT_EQ(names_of(net.named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "2.0.weight", "2.0.bias",
                                      "2.2.weight", "3.weight", "3.bias"}));
  EXPECT_EQ(names_of(net.named_buffers()),
            (std::vector<std::string>{"1.running_mean", "1.running_var", "1.num_batches_tracked"}));
  EXPECT_EQ(net.parameters().size(), 9u);
  for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.requires_grad());
  for (const auto& [name, b] : net.named_buffers()) EXPECT_FALSE(b.requires_grad()) << name;
  EXPECT_EQ(net.parameter_count(), 2 * 9 + 2 + 2 + 2 + 12 + 4 + 20 + 5 + 1);
}

TEST(Module, HandWrittenModuleOwnTensorsComeFirst) {
  Block block;
  EXPECT_EQ(names_of(block.named_parameters()), (std::vector<std::string>{"scale", "body.0.weight", "body.0.bias"}));
  // The registry and the member are the same tensor.
  EXPECT_TRUE(block.named_parameters()[0].second.is_same(block.scale));
  EXPECT_EQ(block.named_children().size(), 1u);
  EXPECT_EQ(block.named_children()[0].first, "body");
}

TEST(Module, SharedModuleAppearsOnce) {
  auto shared = std::make_shared<Linear>(4, 4);
  Sequential net{shared, ReLU(), shared};
  EXPECT_EQ(names_of(net.named_parameters()), (std::vector<std::string>{"0.weight", "0.bias"}));
}

TEST(Module, TrainAndEvalReachEveryDescendant) {
  Sequential net{Dropout(0.5), std::make_shared<Sequential>(Linear(2, 2), Dropout(0.1))};
  EXPECT_TRUE(net.is_training());
  net.eval();
  EXPECT_FALSE(net.is_training());
  EXPECT_FALSE(net[0].is_training());
  EXPECT_FALSE(net[1].is_training());
  EXPECT_FALSE(net.at<Sequential>(1)[1].is_training());
  net.train();
  EXPECT_TRUE(net.at<Sequential>(1)[1].is_training());
  net.at<Sequential>(1).eval();
  EXPECT_TRUE(net.is_training());
  EXPECT_FALSE(net.at<Sequential>(1)[0].is_training());
}

TEST(Module, ToDoubleKeepsHandlesValid) {
  Sequential net{Linear(3, 2), BatchNorm2d(2)};
  Tensor weight = net.at<Linear>(0).weight;  // a handle held outside the module
  Tensor running_var = net.at<BatchNorm2d>(1).running_var;
  const std::vector<double> before = to_vector<double>(weight);
  // A gradient from one backward, to see it converted too.
  net.at<Linear>(0).forward(ones({1, 3})).sum().backward();
  net.to(DType::f64);
  for (const auto& [name, p] : net.named_parameters()) {
    EXPECT_EQ(p.dtype(), DType::f64) << name;
    EXPECT_TRUE(p.requires_grad()) << name;
    EXPECT_TRUE(p.is_leaf()) << name;
  }
  EXPECT_EQ(weight.dtype(), DType::f64);
  EXPECT_TRUE(weight.is_same(net.at<Linear>(0).weight));
  EXPECT_EQ(to_vector<double>(weight), before);  // f32 -> f64 is exact
  EXPECT_EQ(running_var.dtype(), DType::f64);
  EXPECT_EQ(net.at<BatchNorm2d>(1).num_batches_tracked.dtype(), DType::i64);
  EXPECT_EQ(weight.grad().dtype(), DType::f64);
  // The converted network runs in f64 and gradients reach the same handles.
  net.zero_grad();
  net.eval();
  Tensor y = net.at<Linear>(0).forward(ones({2, 3}, DType::f64));
  EXPECT_EQ(y.dtype(), DType::f64);
  y.sum().backward();
  ASSERT_TRUE(weight.grad().defined());
  EXPECT_EQ(weight.grad().dtype(), DType::f64);
  EXPECT_DOUBLE_EQ(to_vector<double>(weight.grad())[0], 2.0);
}

TEST(Module, ToRejectsIntegerDtype) {
  Linear layer(2, 2);
  testing::expect_error([&] { layer.to(DType::i64); }, {"Module::to", "i64", "not floating-point"});
}

TEST(Module, ZeroGradClearsEveryGradient) {
  Sequential net{Linear(3, 2), Linear(2, 1)};
  net(ones({4, 3})).sum().backward();
  for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.grad().defined());
  net.zero_grad();
  for (const Tensor& p : net.parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Module, ToStringPrintsTheTree) {
  Sequential net{Conv2d(1, 8, 3, {.padding = 1}), ReLU(), MaxPool2d(2), Flatten(),
                 std::make_shared<Sequential>(Linear(8 * 14 * 14, 10), Dropout(0.25))};
  EXPECT_EQ(net.to_string(),
            "Sequential(\n"
            "  (0): Conv2d(1 -> 8, kernel=3, padding=1)\n"
            "  (1): ReLU()\n"
            "  (2): MaxPool2d(2)\n"
            "  (3): Flatten()\n"
            "  (4): Sequential(\n"
            "    (0): Linear(1568 -> 10)\n"
            "    (1): Dropout(p=0.25)\n"
            "  )\n"
            ")");
}

TEST(Sequential, RunsInOrderAndGrows) {
  Sequential net;
  EXPECT_TRUE(net.empty());
  net.push_back(Linear(4, 3));
  net.push_back(std::make_shared<ReLU>());
  net.push_back(Linear(3, 2));
  EXPECT_EQ(net.size(), 3u);
  EXPECT_EQ(net[2].name(), "Linear(3 -> 2)");
  Tensor x = randn({5, 4});
  Tensor expected = net.at<Linear>(2)(relu(net.at<Linear>(0)(x)));
  EXPECT_EQ(to_vector<float>(net(x)), to_vector<float>(expected));
  Sequential empty_net;
  EXPECT_TRUE(empty_net(x).is_same(x));
  Sequential one{Linear(2, 2)};
  EXPECT_EQ(one.size(), 1u);
  Sequential copy_initialised = {Linear(2, 2), ReLU()};
  EXPECT_EQ(copy_initialised.size(), 2u);
}

TEST(Sequential, NestsSequentialValues) {
  Sequential net{Sequential{Linear(2, 3), ReLU()}, Linear(3, 1)};
  EXPECT_EQ(names_of(net.named_parameters()),
            (std::vector<std::string>{"0.0.weight", "0.0.bias", "1.weight", "1.bias"}));
  EXPECT_EQ(net(zeros({4, 2})).shape(), (Shape{4, 1}));
}

TEST(Sequential, IndexAndTypeErrors) {
  Sequential net{Linear(2, 2), ReLU()};
  testing::expect_error([&] { (void)net[2]; }, {"Sequential: index 2 is out of range for 2 modules"});
  testing::expect_error([&] { (void)net.at<Linear>(1); },
                        {"Sequential: module 1 is ReLU()", "not of the requested type"});
  testing::expect_error([&] { net.push_back(std::shared_ptr<Module>()); }, {"Sequential: push_back of a null module"});
}

// A module that registers what it is told to, for the registration errors.
class Registrar : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string name() const override { return "Registrar"; }
  void parameter(const std::string& name, Tensor t) { register_parameter(name, std::move(t)); }
  void buffer(const std::string& name, Tensor t) { register_buffer(name, std::move(t)); }
  void child(const std::string& name, std::shared_ptr<Module> m) { register_module(name, std::move(m)); }
};

TEST(Module, RegistrationErrors) {
  Registrar r;
  r.parameter("w", zeros({2}));
  testing::expect_error([&] { r.parameter("w", zeros({2})); }, {"parameter name 'w' is already registered"});
  testing::expect_error([&] { r.buffer("w", zeros({2})); }, {"buffer name 'w' is already registered"});
  testing::expect_error([&] { r.child("w", std::make_shared<ReLU>()); },
                        {"child module name 'w' is already registered"});
  testing::expect_error([&] { r.parameter("", zeros({2})); }, {"parameter name must not be empty"});
  testing::expect_error([&] { r.parameter("a.b", zeros({2})); }, {"parameter name 'a.b' must not contain '.'"});
  testing::expect_error([&] { r.parameter("u", Tensor()); }, {"parameter 'u' is an undefined tensor"});
  testing::expect_error([&] { r.parameter("i", zeros({2}, DType::i64)); },
                        {"parameter 'i' must be floating-point", "i64 [2]"});
  testing::expect_error([&] { r.buffer("b", Tensor()); }, {"buffer 'b' is an undefined tensor"});
  testing::expect_error([&] { r.child("c", nullptr); }, {"child module 'c' is null"});
}

}  // namespace
}  // namespace dendrite::nn
