// Activation functions as modules, for Sequential. Each forwards to the op of the same name.
#pragma once

#include "dendrite/nn/module.h"

namespace dendrite::nn {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "ReLU()"; }
};

// The exact form x * Phi(x) (Hendrycks & Gimpel 2016).
class GELU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "GELU()"; }
};

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Sigmoid()"; }
};

class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Tanh()"; }
};

}  // namespace dendrite::nn
