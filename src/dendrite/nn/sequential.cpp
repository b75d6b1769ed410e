#include "dendrite/nn/sequential.h"

#include <string>

#include "dendrite/core/error.h"

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

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& layer : layers_) y = layer->forward(y);
  return y;
}

}  // namespace dendrite::nn
