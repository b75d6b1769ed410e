// The main job until the training layers land: a two-layer network (linear -> relu -> linear)
// learns to tell apart three interleaved spirals, trained by plain full-batch gradient descent
// written out by hand. Spirals rather than blobs because no linear model separates them, so a
// loss that keeps falling shows that the hidden layer, its backward and the update all work.
// Exits non-zero when the loss does not fall, so a run of it is also a smoke test.
#include <dendrite/dendrite.h>

#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

namespace dd = dendrite;

namespace {

struct Dataset {
  dd::Tensor x;  // f32 [N, 2] points
  dd::Tensor y;  // i64 [N] class of each point
};

// `per_class` points on each of `classes` spiral arms: radius grows from 0 to 1 while the angle
// turns, plus Gaussian noise on the angle so the arms are not perfectly clean.
Dataset make_spirals(int64_t per_class, int64_t classes, dd::Generator& gen) {
  std::vector<float> points;
  std::vector<int64_t> labels;
  for (int64_t c = 0; c < classes; ++c) {
    for (int64_t i = 0; i < per_class; ++i) {
      double r = static_cast<double>(i) / static_cast<double>(per_class - 1);
      double theta =
          2 * std::numbers::pi * static_cast<double>(c) / static_cast<double>(classes) + 4 * r + 0.2 * gen.normal();
      points.push_back(static_cast<float>(r * std::sin(theta)));
      points.push_back(static_cast<float>(r * std::cos(theta)));
      labels.push_back(c);
    }
  }
  return {dd::tensor<float>(points, {per_class * classes, 2}), dd::tensor<int64_t>(labels)};
}

int train() {
  constexpr int64_t kClasses = 3, kHidden = 64, kSteps = 1000, kPrintEvery = 100;
  constexpr double kLearningRate = 1.0;
  dd::Generator gen(7);  // a fixed seed: every run prints the same numbers
  Dataset data = make_spirals(100, kClasses, gen);

  // He initialisation for the layer feeding the relu keeps activations' variance near 1 (He et
  // al. 2015); the output layer starts small so the first predictions are near uniform.
  dd::Tensor w1 = dd::normal({kHidden, 2}, 0.0, std::sqrt(2.0 / 2.0), dd::DType::f32, gen).requires_grad_();
  dd::Tensor b1 = dd::zeros({kHidden}).requires_grad_();
  dd::Tensor w2 = dd::normal({kClasses, kHidden}, 0.0, 0.01, dd::DType::f32, gen).requires_grad_();
  dd::Tensor b2 = dd::zeros({kClasses}).requires_grad_();
  const std::vector<dd::Tensor> params = {w1, b1, w2, b2};

  double first_loss = 0, last_loss = 0;
  dd::Tensor logits;
  for (int64_t step = 0; step <= kSteps; ++step) {
    logits = dd::linear(dd::relu(dd::linear(data.x, w1, b1)), w2, b2);
    dd::Tensor loss = dd::cross_entropy(logits, data.y);
    last_loss = loss.item<double>();
    if (step == 0) first_loss = last_loss;
    if (step % kPrintEvery == 0) std::printf("step %4lld  loss %.4f\n", static_cast<long long>(step), last_loss);
    if (step == kSteps) break;
    loss.backward();
    // The update is not part of the model: record no history for it, then clear the gradients,
    // which backward() accumulates rather than overwrites.
    dd::autograd::NoGradGuard no_grad;
    for (const dd::Tensor& p : params) {
      dd::add_(p, p.grad(), -kLearningRate);
      p.set_grad({});
    }
  }

  std::vector<int64_t> predicted = dd::to_vector<int64_t>(logits.argmax(1));
  std::vector<int64_t> labels = dd::to_vector<int64_t>(data.y);
  int64_t correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) correct += predicted[i] == labels[i] ? 1 : 0;
  std::printf("training accuracy %.1f%% (%lld of %zu points)\n",
              100.0 * static_cast<double>(correct) / static_cast<double>(labels.size()),
              static_cast<long long>(correct), labels.size());
  if (!(last_loss < 0.5 * first_loss)) {
    std::fprintf(stderr, "two_layer_demo: the loss did not fall (%.4f -> %.4f)\n", first_loss, last_loss);
    return 1;
  }
  return 0;
}

}  // namespace

int main() {
  try {
    return train();
  } catch (const dd::Error& e) {  // a library error is a message for the user, not a crash
    std::fprintf(stderr, "two_layer_demo: %s\n", e.what());
    return 1;
  }
}
