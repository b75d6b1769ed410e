#include "dendrite/cli/models.h"

#include <fmt/format.h>

#include "dendrite/core/error.h"
#include "dendrite/nn/nn.h"

namespace dendrite::cli {
namespace {

std::shared_ptr<nn::Module> activation(const std::string& name) {
  if (name == "relu") return std::make_shared<nn::ReLU>();
  if (name == "gelu") return std::make_shared<nn::GELU>();
  if (name == "tanh") return std::make_shared<nn::Tanh>();
  if (name == "sigmoid") return std::make_shared<nn::Sigmoid>();
  fail("model.activation: unknown activation \"{}\"; choose one of: relu, gelu, tanh, sigmoid", name);
}

// The linear layers every architecture ends with: from `features` through `hidden` to the classes.
void append_classifier(nn::Sequential& net, const ModelRecipe& m, int64_t features) {
  for (int64_t width : m.hidden) {
    if (m.dropout > 0) net.push_back(nn::Dropout(m.dropout));
    net.push_back(nn::Linear(features, width));
    net.push_back(activation(m.activation));
    features = width;
  }
  if (m.dropout > 0) net.push_back(nn::Dropout(m.dropout));
  net.push_back(nn::Linear(features, m.classes));
}

std::shared_ptr<nn::Sequential> build_mlp(const ModelRecipe& m) {
  auto net = std::make_shared<nn::Sequential>();
  net->push_back(nn::Flatten());
  append_classifier(*net, m, m.input[0] * m.input[1] * m.input[2]);
  return net;
}

std::shared_ptr<nn::Sequential> build_cnn(const ModelRecipe& m) {
  auto net = std::make_shared<nn::Sequential>();
  int64_t channels = m.input[0], height = m.input[1], width = m.input[2];
  for (int64_t out : m.channels) {
    DENDRITE_CHECK(height >= 2 && width >= 2,
                   "model.channels: {} pooling stages need an input of at least {}x{} pixels, model.input is {}x{}",
                   m.channels.size(), 1 << m.channels.size(), 1 << m.channels.size(), m.input[1], m.input[2]);
    for (int64_t conv = 0; conv < m.convs; ++conv) {
      // Batch norm's shift makes a convolution bias redundant.
      net->push_back(nn::Conv2d(channels, out, 3, {.padding = 1, .bias = !m.batch_norm}));
      if (m.batch_norm) net->push_back(nn::BatchNorm2d(out));
      net->push_back(activation(m.activation));
      channels = out;
    }
    net->push_back(nn::MaxPool2d(2));
    height /= 2;
    width /= 2;
  }
  net->push_back(nn::Flatten());
  append_classifier(*net, m, channels * height * width);
  return net;
}

}  // namespace

std::shared_ptr<nn::Sequential> build_model(const ModelRecipe& model) {
  if (model.architecture == "mlp") return build_mlp(model);
  if (model.architecture == "cnn") return build_cnn(model);
  if (model.architecture == "g2p-lstm")
    fail("model.architecture: \"g2p-lstm\" is a sequence-to-sequence model, not a classifier (cli/g2p.h builds it)");
  fail("model.architecture: unknown architecture \"{}\"; choose one of: mlp, cnn", model.architecture);
}

}  // namespace dendrite::cli
