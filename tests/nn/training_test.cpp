// End-to-end: small networks built from the layers learn generated problems with hand-written SGD,
// so the layers, losses, parameters and gradients all fit together.
#include "nn_test_util.h"

namespace dendrite::nn {
namespace {

// One step of plain SGD over every parameter, then clears the gradients.
void sgd_step(Module& net, double lr) {
  autograd::NoGradGuard no_grad;
  for (const Tensor& p : net.parameters()) add_(p, p.grad(), -lr);
  net.zero_grad();
}

double accuracy(const Tensor& logits, const Tensor& labels) {
  std::vector<int64_t> predicted = to_vector<int64_t>(argmax(logits, 1)), truth = to_vector<int64_t>(labels);
  int64_t correct = 0;
  for (size_t i = 0; i < truth.size(); ++i) correct += predicted[i] == truth[i];
  return static_cast<double>(correct) / static_cast<double>(truth.size());
}

TEST(Training, MlpLearnsALinearlySeparableProblem) {
  manual_seed(123);
  Generator gen(5);
  // Labels from a random linear teacher over 3 classes.
  Tensor x = randn({256, 8}, DType::f32, gen);
  Tensor teacher = randn({8, 3}, DType::f32, gen);
  Tensor labels = argmax(matmul(x, teacher), 1);

  Sequential net{Linear(8, 32), ReLU(), Linear(32, 3)};
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    Tensor loss = cross_entropy(net(x), labels);
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
    loss.backward();
    sgd_step(net, 0.5);
  }
  EXPECT_LT(last, 0.3 * first) << "first " << first << ", last " << last;
  net.eval();
  EXPECT_GT(accuracy(net(x), labels), 0.9);
}

TEST(Training, SmallConvNetLossDecreases) {
  manual_seed(321);
  Generator gen(6);
  // Class 1 images are bright in the top half, class 0 in the bottom half, under noise.
  const int64_t n = 32;
  Tensor labels = randint(0, 2, {n}, DType::i64, gen);
  std::vector<float> pixels(static_cast<size_t>(n * 8 * 8));
  std::vector<int64_t> y = to_vector<int64_t>(labels);
  std::vector<float> noise = to_vector<float>(normal({n * 64}, 0.0, 0.5, DType::f32, gen));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t r = 0; r < 8; ++r) {
      for (int64_t c = 0; c < 8; ++c) {
        const size_t k = static_cast<size_t>((i * 8 + r) * 8 + c);
        pixels[k] = noise[k] + (((r < 4) == (y[static_cast<size_t>(i)] == 1)) ? 1.0f : 0.0f);
      }
    }
  }
  Tensor images = tensor<float>(pixels, {n, 1, 8, 8});
  Sequential net{Conv2d(1, 4, 3, {.padding = 1}),
                 BatchNorm2d(4),
                 ReLU(),
                 MaxPool2d(2),
                 Flatten(),
                 Dropout(0.1),
                 Linear(4 * 4 * 4, 2)};
  double first = 0, last = 0;
  for (int step = 0; step < 20; ++step) {
    Tensor loss = cross_entropy(net(images), labels);
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
    loss.backward();
    sgd_step(net, 0.1);
  }
  EXPECT_LT(last, 0.5 * first) << "first " << first << ", last " << last;
  EXPECT_EQ(net.at<BatchNorm2d>(1).num_batches_tracked.item<int64_t>(), 20);
  net.eval();
  EXPECT_GT(accuracy(net(images), labels), 0.9);
}

}  // namespace
}  // namespace dendrite::nn
