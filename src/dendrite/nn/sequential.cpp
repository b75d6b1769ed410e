#include "dendrite/nn/sequential.h"

#include <string>
#include <typeinfo>

#include "dendrite/core/error.h"
#include "dendrite/nn/activation.h"
#include "dendrite/nn/conv.h"

namespace dendrite::nn {

void Sequential::push_back(std::shared_ptr<Module> module) {
  DENDRITE_CHECK(module != nullptr, "Sequential: push_back of a null module (at index {})", layers_.size());
  register_module(std::to_string(layers_.size()), module);
  layers_.push_back(std::move(module));
}

std::shared_ptr<Module> Sequential::ptr(size_t index) const {
  DENDRITE_CHECK(index < layers_.size(), "Sequential: index {} is out of range for {} modules", index, layers_.size());
  return layers_[index];
}

void Sequential::wrong_type(size_t index) const {
  fail("Sequential: module {} is {}, not of the requested type", index, layers_[index]->name());
}

// A Conv2d followed by a ReLU runs as one call (Conv2d::forward_relu), which fuses the ReLU into
// the convolution: W5's batch-1 CNN and W2's training spent a pass and a tensor on each ReLU
// (docs/performance.md). The result is the same either way.
Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    auto* conv = dynamic_cast<Conv2d*>(layers_[i].get());
    if (conv != nullptr && i + 1 < layers_.size() && typeid(*layers_[i + 1]) == typeid(ReLU)) {
      y = conv->forward_relu(y);
      ++i;
    } else {
      y = layers_[i]->forward(y);
    }
  }
  return y;
}

}  // namespace dendrite::nn
