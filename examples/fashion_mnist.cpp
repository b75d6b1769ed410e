// Fashion-MNIST with the library directly: what `dendrite train` does from a recipe, written out.
// A small convnet (conv-bn-relu-pool twice, then a linear layer) trained with SGD + Nesterov
// momentum under a cosine schedule (run it to see the test accuracy per epoch;
// the measured recipe results are in docs/results.md).
//
//   ./fashion_mnist [epochs]      (needs Debian's dataset-fashion-mnist)
#include <dendrite/dendrite.h>

#include <cstdio>
#include <cstdlib>

namespace dd = dendrite;
namespace nn = dendrite::nn;

// The fraction of `loader`'s examples that the network classifies correctly.
double accuracy(nn::Module& net, dd::data::DataLoader& loader) {
  net.eval();  // batch norm uses its running statistics
  dd::autograd::NoGradGuard no_grad;
  int64_t correct = 0, total = 0;
  for (auto& [x, y] : loader) {
    auto predicted = dd::to_vector<int64_t>(net(x).argmax(1));
    auto labels = dd::to_vector<int64_t>(y);
    for (size_t i = 0; i < labels.size(); ++i) correct += predicted[i] == labels[i];
    total += static_cast<int64_t>(labels.size());
  }
  net.train();
  return static_cast<double>(correct) / static_cast<double>(total);
}

int main(int argc, char** argv) try {
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 3;
  dd::manual_seed(1);  // the initial weights

  auto [train, test] = dd::data::fashion_mnist();  // 60k + 10k images, f32 [N, 1, 28, 28] in [0, 1]
  dd::data::DataLoader train_loader(
      train, {.batch = 128, .shuffle = true, .seed = 1, .transform = dd::data::RandomHorizontalFlip()});
  dd::data::DataLoader test_loader(test, {.batch = 1000});

  // Two blocks of convolution, batch norm, ReLU and 2x2 max pooling (28 -> 14 -> 7), then a classifier.
  // clang-format off
  nn::Sequential net{nn::Conv2d(1, 32, 3, {.padding = 1}), nn::BatchNorm2d(32), nn::ReLU(), nn::MaxPool2d(2),
                     nn::Conv2d(32, 64, 3, {.padding = 1}), nn::BatchNorm2d(64), nn::ReLU(), nn::MaxPool2d(2),
                     nn::Flatten(), nn::Linear(64 * 7 * 7, 10)};
  // clang-format on
  dd::optim::SGD opt(net.named_parameters(), {.lr = 0.05, .momentum = 0.9, .weight_decay = 5e-4, .nesterov = true});
  dd::optim::CosineWithWarmup schedule(0.05, 100, epochs * train_loader.num_batches());

  for (int epoch = 1; epoch <= epochs; ++epoch) {
    double loss_sum = 0;
    int64_t seen = 0;
    for (auto& [x, y] : train_loader) {
      dd::optim::apply_schedule(opt, schedule);
      dd::Tensor loss = nn::cross_entropy(net(x), y);
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>() * static_cast<double>(x.size(0));
      seen += x.size(0);
    }
    std::printf("epoch %d: train loss %.4f, test accuracy %.4f\n", epoch, loss_sum / static_cast<double>(seen),
                accuracy(net, test_loader));
  }
  return 0;
} catch (const dd::Error& e) {  // e.g. the data set is not installed: the message says which package
  std::fprintf(stderr, "fashion_mnist: %s\n", e.what());
  return 1;
}
