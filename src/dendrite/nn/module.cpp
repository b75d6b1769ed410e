// Module bookkeeping: registration, recursive traversal with dotted names, mode switching, and the
// in-place dtype conversion that keeps every handle to a parameter valid.
#include "dendrite/nn/module.h"

#include <unordered_set>

#include "dendrite/core/error.h"

namespace dendrite::nn {

namespace {

// Depth-first walk in registration order: a module's own tensors first, then each child's under
// "<child>.", skipping tensors already seen so that shared ones appear once.
NamedTensors collect(const NamedTensors& own,
                     const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children,
                     NamedTensors (Module::*recurse)() const) {
  NamedTensors out;
  std::unordered_set<const TensorImpl*> seen;
  for (const auto& [name, t] : own) {
    if (seen.insert(t.impl_ptr().get()).second) out.emplace_back(name, t);
  }
  for (const auto& [child_name, child] : children) {
    for (auto& [name, t] : (child.get()->*recurse)()) {
      if (seen.insert(t.impl_ptr().get()).second) out.emplace_back(child_name + "." + name, t);
    }
  }
  return out;
}

// Rewrites t's TensorImpl to hold `converted` (same shape, new storage), so that every handle
// sharing the impl sees the new dtype.
void replace_data(const Tensor& t, const Tensor& converted) {
  TensorImpl& impl = t.impl();
  impl.storage = converted.storage();
  impl.strides = converted.strides();
  impl.offset = converted.offset();
  impl.dtype = converted.dtype();
}

}  // namespace

NamedTensors Module::named_parameters() const { return collect(parameters_, children_, &Module::named_parameters); }

NamedTensors Module::named_buffers() const { return collect(buffers_, children_, &Module::named_buffers); }

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t count = 0;
  for (const auto& [name, t] : named_parameters()) count += t.numel();
  return count;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::to(DType dtype) {
  DENDRITE_CHECK(is_floating(dtype), "Module::to: target dtype {} is not floating-point", dendrite::name(dtype));
  // The copies are bookkeeping, not part of any model computation.
  autograd::NoGradGuard no_grad;
  auto convert_all = [dtype](const NamedTensors& tensors) {
    for (const auto& [name, t] : tensors) {
      if (!is_floating(t.dtype()) || t.dtype() == dtype) continue;
      replace_data(t, t.detach().to(dtype));
      if (autograd::AutogradMeta* meta = autograd::meta(t); meta != nullptr && meta->grad.defined()) {
        meta->grad = Tensor(meta->grad).to(dtype);
      }
    }
  };
  convert_all(named_parameters());
  convert_all(named_buffers());
}

void Module::zero_grad() {
  for (const auto& [name, t] : named_parameters()) t.set_grad({});
}

std::string Module::to_string() const {
  std::string out;
  append_to_string(out, 0);
  return out;
}

void Module::append_to_string(std::string& out, int indent) const {
  out += name();
  if (children_.empty()) return;
  out += "(\n";
  const std::string pad(static_cast<size_t>(indent + 2), ' ');
  for (const auto& [child_name, child] : children_) {
    out += pad + "(" + child_name + "): ";
    child->append_to_string(out, indent + 2);
    out += "\n";
  }
  out += std::string(static_cast<size_t>(indent), ' ') + ")";
}

void Module::check_new_name(const char* what, const std::string& name) const {
  DENDRITE_CHECK(!name.empty(), "Module: {} name must not be empty", what);
  DENDRITE_CHECK(name.find('.') == std::string::npos, "Module: {} name '{}' must not contain '.'", what, name);
  auto taken = [&name](const auto& entries) {
    for (const auto& entry : entries) {
      if (entry.first == name) return true;
    }
    return false;
  };
  DENDRITE_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_),
                 "Module: {} name '{}' is already registered", what, name);
}

Tensor Module::register_parameter(std::string name, Tensor t) {
  check_new_name("parameter", name);
  DENDRITE_CHECK(t.defined(), "Module: parameter '{}' is an undefined tensor", name);
  DENDRITE_CHECK(is_floating(t.dtype()), "Module: parameter '{}' must be floating-point, got {}", name, describe(t));
  t.requires_grad_(true);
  parameters_.emplace_back(std::move(name), t);
  return t;
}

Tensor Module::register_buffer(std::string name, Tensor t) {
  check_new_name("buffer", name);
  DENDRITE_CHECK(t.defined(), "Module: buffer '{}' is an undefined tensor", name);
  buffers_.emplace_back(std::move(name), t);
  return t;
}

void Module::add_child(std::string name, std::shared_ptr<Module> module) {
  check_new_name("child module", name);
  DENDRITE_CHECK(module != nullptr, "Module: child module '{}' is null", name);
  DENDRITE_CHECK(module.get() != this, "Module: child module '{}' is the module itself", name);
  children_.emplace_back(std::move(name), std::move(module));
}

}  // namespace dendrite::nn
