// Every error the nn layers raise: bad constructor arguments name the argument; bad inputs name
// the layer (with its configuration) and the shapes.
#include "nn_test_util.h"

namespace dendrite::nn {
namespace {

using testing::expect_error;

TEST(NnErrors, LinearArguments) {
  expect_error([] { Linear(0, 5); }, {"Linear: in_features must be positive, got 0"});
  expect_error([] { Linear(5, -1); }, {"Linear: out_features must be positive, got -1"});
}

TEST(NnErrors, LinearInput) {
  Linear layer(784, 512);
  expect_error(
      [&] {
        layer(zeros({64, 100}));
      },
      {"Linear(784 -> 512): input [64, 100] has 100 features, expected 784"});
  expect_error([&] { layer(scalar_tensor(1.0)); }, {"Linear(784 -> 512): input [] has no feature axis"});
  expect_error(
      [&] {
        layer(zeros({2, 784}, DType::f64));
      },
      {"Linear(784 -> 512): input is f64 [2, 784] but the weight is f32 [512, 784]"});
}

TEST(NnErrors, Conv2dArguments) {
  expect_error([] { Conv2d(0, 4, 3); }, {"Conv2d: in_channels must be positive, got 0"});
  expect_error([] { Conv2d(4, 0, 3); }, {"Conv2d: out_channels must be positive, got 0"});
  expect_error([] { Conv2d(4, 4, {3, 0}); }, {"Conv2d: kernel_size must be positive, got 3x0"});
  expect_error([] { Conv2d(4, 4, 3, {.stride = 0}); }, {"Conv2d: stride must be positive, got 0"});
  expect_error([] { Conv2d(4, 4, 3, {.padding = -1}); }, {"Conv2d: padding must be >= 0, got -1"});
  expect_error([] { Conv2d(4, 4, 3, {.dilation = {1, 0}}); }, {"Conv2d: dilation must be positive, got 1x0"});
  expect_error([] { Conv2d(4, 4, 3, {.groups = 0}); }, {"Conv2d: groups must be positive, got 0"});
  expect_error([] { Conv2d(3, 6, 3, {.groups = 2}); }, {"Conv2d: in_channels 3 is not divisible by groups 2"});
  expect_error([] { Conv2d(4, 6, 3, {.groups = 4}); }, {"Conv2d: out_channels 6 is not divisible by groups 4"});
}

TEST(NnErrors, Conv2dInput) {
  Conv2d conv(3, 32, 3, {.padding = 1});
  expect_error(
      [&] {
        conv(zeros({8, 1, 28, 28}));
      },
      {"Conv2d(3 -> 32, kernel=3, padding=1): input [8, 1, 28, 28] has 1 channels, expected 3"});
  expect_error(
      [&] {
        conv(zeros({3, 28, 28}));
      },
      {"Conv2d(3 -> 32, kernel=3, padding=1): expected a 4-D input [N, C, H, W], got [3, 28, 28]"});
  expect_error([&] { conv(zeros({1, 3, 8, 8}, DType::f64)); }, {"input is f64 [1, 3, 8, 8] but the weight is f32"});
  Conv2d big(1, 1, 5);
  expect_error(
      [&] {
        big(zeros({1, 1, 4, 9}));
      },
      {"Conv2d(1 -> 1, kernel=5): input [1, 1, 4, 9] is smaller than the kernel", "kernel span 5x5"});
}

TEST(NnErrors, PoolingArgumentsAndInput) {
  expect_error([] { MaxPool2d(0); }, {"MaxPool2d: kernel_size must be positive, got 0"});
  expect_error([] { AvgPool2d(2, {.stride = -1}); },
               {"AvgPool2d: stride must be positive (or 0 for the kernel size), got -1"});
  expect_error([] { MaxPool2d(2, {.padding = -1}); }, {"MaxPool2d: padding must be >= 0, got -1"});
  expect_error([] { MaxPool2d(2, {.padding = 2}); }, {"MaxPool2d: padding 2 must be at most half the kernel_size 2"});
  MaxPool2d pool(2);
  expect_error([&] { pool(zeros({4, 28, 28})); }, {"MaxPool2d(2): expected a 4-D input [N, C, H, W], got [4, 28, 28]"});
  AvgPool2d avg(3, {.stride = 2});
  expect_error(
      [&] {
        avg(zeros({1, 1, 2, 8}));
      },
      {"AvgPool2d(3, stride=2): input [1, 1, 2, 8] is smaller than the kernel 3 (padding 0)"});
}

TEST(NnErrors, FlattenArgumentsAndInput) {
  expect_error([] { Flatten(2, 1); }, {"Flatten: start_axis 2 comes after end_axis 1"});
  Flatten flatten;
  expect_error([&] { flatten(zeros({5})); }, {"Flatten(): input [5] of rank 1 has no axes 1..-1 to flatten"});
}

TEST(NnErrors, DropoutProbability) {
  expect_error([] { Dropout(1.5); }, {"Dropout: p must be in [0, 1], got 1.5"});
  expect_error([] { Dropout(-0.1); }, {"Dropout: p must be in [0, 1], got -0.1"});
}

TEST(NnErrors, BatchNormArgumentsAndInput) {
  expect_error([] { BatchNorm2d(0); }, {"BatchNorm2d: num_features must be positive, got 0"});
  expect_error([] { BatchNorm2d(4, {.eps = 0}); }, {"BatchNorm2d: eps must be positive, got 0"});
  expect_error([] { BatchNorm2d(4, {.momentum = 2}); }, {"BatchNorm2d: momentum must be in [0, 1], got 2"});
  BatchNorm2d bn(32);
  expect_error(
      [&] {
        bn(zeros({64, 16, 28, 28}));
      },
      {"BatchNorm2d(32): input [64, 16, 28, 28] has 16 channels, expected 32"});
  expect_error([&] { bn(zeros({64, 32})); }, {"BatchNorm2d(32): expected a 4-D input [N, C, H, W], got [64, 32]"});
  expect_error(
      [&] {
        bn(zeros({1, 32, 1, 1}));
      },
      {"BatchNorm2d(32): training needs more than 1 value per channel, got input [1, 32, 1, 1]"});
  expect_error(
      [&] {
        bn(zeros({2, 32, 2, 2}, DType::f64));
      },
      {"BatchNorm2d(32): input is f64 [2, 32, 2, 2] but the running statistics are f32 [32]"});
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 0);  // failed calls count nothing
}

TEST(NnErrors, LayerNormArgumentsAndInput) {
  expect_error([] { LayerNorm(Shape{}); }, {"LayerNorm: normalized_shape must not be empty"});
  expect_error([] { LayerNorm(Shape{4, 0}); }, {"LayerNorm: normalized_shape [4, 0] must have positive sizes"});
  expect_error([] { LayerNorm(4, {.eps = -1}); }, {"LayerNorm: eps must be positive, got -1"});
  LayerNorm ln(512);
  expect_error(
      [&] {
        ln(zeros({64, 100}));
      },
      {"LayerNorm([512]): input [64, 100] does not end in the normalized shape [512]"});
}

TEST(NnErrors, EmbeddingArgumentsAndInput) {
  expect_error([] { Embedding(0, 4); }, {"Embedding: num_embeddings must be positive, got 0"});
  expect_error([] { Embedding(4, 0); }, {"Embedding: embedding_dim must be positive, got 0"});
  Embedding emb(1000, 64);
  expect_error([&] { emb(zeros({4, 7})); }, {"Embedding(1000, 64): indices must be i64 or i32, got f32 [4, 7]"});
  // Out-of-range indices are caught by the op, naming the index and the bound.
  expect_error(
      [&] {
        emb(tensor<int64_t>({3, 1000}));
      },
      {"Embedding(1000, 64): embedding: index 1000 at position 1 is out of range [0, 1000)"});
}

}  // namespace
}  // namespace dendrite::nn
