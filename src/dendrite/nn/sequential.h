// Sequential: runs its children in order, each one's output the next one's input.
//
//   Sequential net{Linear(784, 512), ReLU(), Linear(512, 10)};   // modules by value (moved in)
//   net.push_back(Dropout(0.1));                                  // or appended later
//   auto shared = std::make_shared<Linear>(10, 10);
//   net.push_back(shared);                                        // or shared with the caller
//
// Children are named "0", "1", ... so parameters read "0.weight", "2.bias" (PyTorch's names).
// Note: Sequential{other_sequential} moves `other_sequential` rather than nesting it (C++'s
// list-initialisation rule); write Sequential{std::make_shared<Sequential>(...)} to nest one alone.
#pragma once

#include <concepts>
#include <memory>
#include <type_traits>
#include <vector>

#include "dendrite/nn/module.h"

namespace dendrite::nn {

// A module passed by value: an rvalue of a concrete Module type, moved into shared ownership.
template <typename T>
concept ModuleValue = std::derived_from<std::remove_cvref_t<T>, Module> && !std::is_lvalue_reference_v<T> &&
                      !std::is_const_v<std::remove_reference_t<T>>;
// A module shared with the caller.
template <typename T>
concept ModulePointer = std::convertible_to<T, std::shared_ptr<Module>>;

class Sequential : public Module {
 public:
  Sequential() = default;
  template <typename... Ms>
    requires(sizeof...(Ms) > 0 && ((ModuleValue<Ms> || ModulePointer<Ms>) && ...))
  explicit(sizeof...(Ms) == 1) Sequential(Ms&&... modules) {
    (push_back(std::forward<Ms>(modules)), ...);
  }

  template <ModuleValue M>
  void push_back(M&& module) {
    push_back(std::shared_ptr<Module>(std::make_shared<std::remove_cvref_t<M>>(std::move(module))));
  }
  void push_back(std::shared_ptr<Module> module);

  size_t size() const { return layers_.size(); }
  bool empty() const { return layers_.empty(); }
  // The i-th child; throws naming the index and the size when out of range.
  Module& operator[](size_t index) const { return *ptr(index); }
  std::shared_ptr<Module> ptr(size_t index) const;
  // The i-th child as a concrete type; throws when it is of another type.
  template <typename M>
  M& at(size_t index) const {
    auto* typed = dynamic_cast<M*>(ptr(index).get());
    if (typed == nullptr) wrong_type(index);
    return *typed;
  }

  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Sequential"; }

 private:
  [[noreturn]] void wrong_type(size_t index) const;
  std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace dendrite::nn
