// Model builders: the shapes the recipes' architectures produce.
#include "dendrite/cli/models.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dendrite/autograd/autograd.h"
#include "dendrite/cli/recipe_files.h"
#include "dendrite/core/error.h"
#include "dendrite/core/random.h"
#include "dendrite/nn/nn.h"
#include "dendrite/ops/creation.h"

namespace dendrite::cli {
namespace {

Shape forward_shape(nn::Module& model, const Shape& input) {
  autograd::NoGradGuard no_grad;
  Generator gen(3);
  return model(rand(input, DType::f32, gen)).shape();
}

TEST(Models, MlpIsFlattenThenLinearLayers) {
  ModelRecipe m;  // the defaults: 784-512-512-10 with ReLU
  auto net = build_model(m);
  EXPECT_EQ(forward_shape(*net, {2, 1, 28, 28}), (Shape{2, 10}));
  EXPECT_EQ(net->parameter_count(), 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10);
  EXPECT_EQ(net->size(), 6u);  // Flatten, Linear, ReLU, Linear, ReLU, Linear
  EXPECT_EQ(net->at<nn::Linear>(1).in_features(), 784);
}

TEST(Models, MlpWithDropoutAndOtherActivation) {
  ModelRecipe m;
  m.hidden = {32};
  m.dropout = 0.5;
  m.activation = "gelu";
  auto net = build_model(m);
  EXPECT_EQ(forward_shape(*net, {2, 1, 28, 28}), (Shape{2, 10}));
  EXPECT_NO_THROW(net->at<nn::Dropout>(1));
  EXPECT_NO_THROW(net->at<nn::GELU>(3));
}

TEST(Models, BuiltInRecipesBuildAndRun) {
  for (const char* name : {"fashion-mlp", "fashion-cnn"}) {
    SCOPED_TRACE(name);
    const Recipe r = parse_recipe_file(resolve_recipe(name));
    auto net = build_model(r.model);
    net->eval();  // batch norm in training mode would also work on 2 examples; eval is what predict uses
    EXPECT_EQ(forward_shape(*net, {2, 1, 28, 28}), (Shape{2, 10}));
  }
}

TEST(Models, CnnStagesHalveTheImage) {
  ModelRecipe m;
  m.architecture = "cnn";
  m.channels = {4, 8};
  m.hidden = {16};
  auto net = build_model(m);
  // Per stage: conv, bn, relu, conv, bn, relu, pool; then flatten, linear, relu, linear.
  EXPECT_EQ(net->size(), 2 * 7 + 4u);
  EXPECT_EQ(net->at<nn::Linear>(15).in_features(), 8 * 7 * 7);
  EXPECT_FALSE(net->at<nn::Conv2d>(0).bias.defined());  // batch norm makes it redundant
  EXPECT_EQ(forward_shape(*net, {2, 1, 28, 28}), (Shape{2, 10}));

  m.batch_norm = false;
  m.input = {3, 9, 9};  // odd sizes floor: 9 -> 4 -> 2
  auto plain = build_model(m);
  EXPECT_TRUE(plain->at<nn::Conv2d>(0).bias.defined());
  EXPECT_EQ(plain->at<nn::Linear>(11).in_features(), 8 * 2 * 2);
  EXPECT_EQ(forward_shape(*plain, {2, 3, 9, 9}), (Shape{2, 10}));
}

TEST(Models, CnnWithOneConvolutionPerStage) {
  ModelRecipe m;
  m.architecture = "cnn";
  m.channels = {4, 8};
  m.convs = 1;
  m.hidden = {};
  auto net = build_model(m);
  // Per stage: conv, bn, relu, pool; then flatten, linear.
  EXPECT_EQ(net->size(), 2 * 4 + 2u);
  EXPECT_EQ(net->at<nn::Conv2d>(4).in_channels(), 4);
  EXPECT_EQ(forward_shape(*net, {2, 1, 28, 28}), (Shape{2, 10}));
}

TEST(Models, TooManyStagesForTheInputIsAnError) {
  ModelRecipe m;
  m.architecture = "cnn";
  m.channels = {4, 4, 4};
  m.input = {1, 4, 4};
  try {
    build_model(m);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("model.channels: 3 pooling stages need an input of at least 8x8"));
  }
}

TEST(Models, SeededBuildsAreIdentical) {
  ModelRecipe m;
  m.hidden = {8};
  manual_seed(5);
  auto a = build_model(m);
  manual_seed(5);
  auto b = build_model(m);
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i)
    EXPECT_EQ(to_vector<float>(pa[i].second), to_vector<float>(pb[i].second)) << pa[i].first;
}

}  // namespace
}  // namespace dendrite::cli
