// Module: the unit networks are built from (PyTorch's nn.Module). A module owns named parameters
// (trainable, requires_grad) and buffers (state such as batch-norm running statistics), and child
// modules; names are dotted paths ("features.0.weight") in registration order, which is the order
// checkpoints and optimisers see them in.
//
// Parameters are Tensor handles: a module keeps its own handle (e.g. Linear::weight) and the
// registry holds another to the same TensorImpl, so in-place changes (optimiser steps, to(dtype),
// loading a checkpoint) are seen through both.
//
// Thread-safety: a module is used by one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/ops/tensor.h"

namespace dendrite::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;

  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }

  // Recursive, in registration order, with dotted names. A tensor registered under several names
  // (tied weights, a module used twice) appears once, under its first name, as in PyTorch.
  NamedTensors named_parameters() const;
  NamedTensors named_buffers() const;
  std::vector<Tensor> parameters() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const { return children_; }
  // The number of trainable scalars (each shared parameter counted once).
  int64_t parameter_count() const;

  // Training mode affects dropout and batch norm; applies to every descendant.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Converts every floating parameter and buffer (and any gradient) in place: the TensorImpl every
  // handle points to gets new storage, dtype and contiguous strides, and keeps requires_grad.
  // Integer buffers (e.g. num_batches_tracked) are left alone. `dtype` must be floating-point.
  void to(DType dtype);
  // Clears every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).
  void zero_grad();
  // A short description of this module alone, e.g. "Linear(784 -> 512)"; layers use it in
  // their error messages.
  virtual std::string name() const = 0;
  // The whole tree, one line per module, like PyTorch's repr:
  //   Sequential(
  //     (0): Linear(784 -> 512)
  //     (1): ReLU()
  //   )
  // Inside a Module's own members this name hides dendrite::to_string(const Shape&): write
  // dendrite::to_string(x.shape()) there.
  std::string to_string() const;

 protected:
  // Registers t as a trainable parameter (sets requires_grad) and returns it. Names must be
  // non-empty, free of '.', and unique among this module's parameters, buffers and children.
  Tensor register_parameter(std::string name, Tensor t);
  Tensor register_buffer(std::string name, Tensor t);
  template <typename M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    add_child(std::move(name), module);
    return module;
  }

 private:
  void check_new_name(const char* what, const std::string& name) const;
  void add_child(std::string name, std::shared_ptr<Module> module);
  void append_to_string(std::string& out, int indent) const;

  NamedTensors parameters_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace dendrite::nn
