// The part every optimiser shares: argument checks, the step loop over parameters, and the state
// slots with their save/restore. Subclasses supply only the per-parameter update.
#include "dendrite/optim/optimizer.h"

#include <cmath>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "dendrite/autograd/autograd.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/elementwise.h"

namespace dendrite::optim {

namespace {

void check_lr(const char* kind, double lr) {
  DENDRITE_CHECK(lr >= 0.0 && std::isfinite(lr), "{}: lr must be a non-negative number, got {}", kind, lr);
}

}  // namespace

Optimizer::Optimizer(const char* kind, nn::NamedTensors params, double lr, std::vector<std::string> slots)
    : params_(std::move(params)), lr_(lr), kind_(kind), slot_names_(std::move(slots)) {
  check_lr(kind_, lr);
  DENDRITE_CHECK(!params_.empty(), "{}: got an empty parameter list", kind_);
  std::unordered_set<std::string> names;
  std::unordered_map<const TensorImpl*, const std::string*> tensors;
  for (const auto& [name, p] : params_) {
    DENDRITE_CHECK(p.defined(), "{}: parameter '{}' is an undefined tensor", kind_, name);
    DENDRITE_CHECK(p.dtype() == DType::f32 || p.dtype() == DType::f64,
                   "{}: parameter '{}' is {}; optimisers update f32 or f64 parameters", kind_, name, describe(p));
    DENDRITE_CHECK(p.requires_grad(), "{}: parameter '{}' ({}) does not require grad", kind_, name, describe(p));
    DENDRITE_CHECK(names.insert(name).second, "{}: parameter name '{}' appears twice", kind_, name);
    auto [it, fresh] = tensors.emplace(p.impl_ptr().get(), &name);
    DENDRITE_CHECK(fresh, "{}: parameters '{}' and '{}' are the same tensor", kind_, *it->second, name);
  }
  slots_.resize(params_.size());
  param_steps_.assign(params_.size(), 0);
  for (size_t i = 0; i < params_.size(); ++i) {
    for (size_t k = 0; k < slot_names_.size(); ++k) {
      slots_[i].push_back(zeros(params_[i].second.shape(), params_[i].second.dtype()));
    }
  }
}

void Optimizer::set_lr(double lr) {
  check_lr(kind_, lr);
  lr_ = lr;
}

void Optimizer::zero_grad() {
  for (auto& [name, p] : params_) p.set_grad({});
}

void Optimizer::fill_slot(size_t slot, double value) {
  for (auto& s : slots_) fill_(s[slot], value);
}

void Optimizer::step() {
  autograd::NoGradGuard no_grad;
  // Checked for every parameter first, so that a bad one leaves all of them unchanged.
  for (const auto& [name, p] : params_) {
    DENDRITE_CHECK(p.dtype() == DType::f32 || p.dtype() == DType::f64,
                   "{}: parameter '{}' is {}; optimisers update f32 or f64 parameters", kind_, name, describe(p));
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i].second;
    Tensor grad = p.grad();
    if (!grad.defined()) continue;
    // Module::to(dtype) converts parameters in place; the state follows them here.
    for (Tensor& s : slots_[i]) {
      if (s.dtype() != p.dtype()) s = s.to(p.dtype());
    }
    update(i, grad, param_steps_[i] + 1);
    ++param_steps_[i];
  }
  ++step_count_;
}

nn::NamedTensors Optimizer::state() const {
  nn::NamedTensors out;
  if (slot_names_.empty()) return out;
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string& name = params_[i].first;
    for (size_t k = 0; k < slot_names_.size(); ++k)
      out.emplace_back(name + "." + slot_names_[k], Tensor(slots_[i][k].alias()));
    out.emplace_back(name + ".step", scalar_tensor(param_steps_[i], DType::i64));
  }
  return out;
}

void Optimizer::load_state(const nn::NamedTensors& state) {
  std::map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state) {
    DENDRITE_CHECK(given.emplace(name, &t).second, "{} load_state: entry '{}' appears twice", kind_, name);
  }
  auto take = [&](const std::string& name) -> const Tensor& {
    auto it = given.find(name);
    DENDRITE_CHECK(it != given.end(), "{} load_state: missing entry '{}'", kind_, name);
    const Tensor& t = *it->second;
    given.erase(it);
    DENDRITE_CHECK(t.defined(), "{} load_state: entry '{}' is an undefined tensor", kind_, name);
    return t;
  };
  // Check every entry first, so that a bad checkpoint leaves the optimiser untouched.
  std::vector<std::vector<const Tensor*>> values(params_.size());
  std::vector<int64_t> steps(params_.size(), 0);
  if (!slot_names_.empty()) {
    for (size_t i = 0; i < params_.size(); ++i) {
      const auto& [pname, p] = params_[i];
      for (const std::string& slot : slot_names_) {
        const std::string name = pname + "." + slot;
        const Tensor& t = take(name);
        DENDRITE_CHECK(t.shape() == p.shape(), "{} load_state: '{}' has shape {} but parameter '{}' has shape {}",
                       kind_, name, to_string(t.shape()), pname, to_string(p.shape()));
        DENDRITE_CHECK(is_floating(t.dtype()), "{} load_state: '{}' is {}; expected a floating tensor", kind_, name,
                       describe(t));
        values[i].push_back(&t);
      }
      const std::string name = pname + ".step";
      const Tensor& t = take(name);
      DENDRITE_CHECK(t.numel() == 1, "{} load_state: '{}' must hold one number, got {}", kind_, name, describe(t));
      const double step = t.item<double>();
      DENDRITE_CHECK(step >= 0 && step == std::floor(step) && step < 9.0e15,
                     "{} load_state: '{}' must be a non-negative integer, got {}", kind_, name, step);
      steps[i] = static_cast<int64_t>(step);
    }
  }
  if (!given.empty()) {
    fail("{} load_state: unexpected entry '{}' (this optimiser keeps {} per parameter)", kind_, given.begin()->first,
         slot_names_.empty() ? std::string("no state") : fmt::format("{}, step", fmt::join(slot_names_, ", ")));
  }
  autograd::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    for (size_t k = 0; k < values[i].size(); ++k) {
      Tensor fresh = empty(params_[i].second.shape(), params_[i].second.dtype());
      copy_(fresh, *values[i][k]);
      slots_[i][k] = fresh;  // a new buffer: never aliases the caller's tensor
    }
  }
  param_steps_ = std::move(steps);
}

std::vector<std::pair<std::string, double>> Optimizer::state_scalars() const {
  return {{"step", static_cast<double>(step_count_)}, {"lr", lr_}};
}

void Optimizer::load_state_scalars(const std::vector<std::pair<std::string, double>>& scalars) {
  const double* step = nullptr;
  const double* lr = nullptr;
  for (const auto& [name, value] : scalars) {
    const double** slot = name == "step" ? &step : name == "lr" ? &lr : nullptr;
    DENDRITE_CHECK(slot != nullptr, "{} load_state_scalars: unexpected entry '{}' (expected step, lr)", kind_, name);
    DENDRITE_CHECK(*slot == nullptr, "{} load_state_scalars: entry '{}' appears twice", kind_, name);
    *slot = &value;
  }
  DENDRITE_CHECK(step != nullptr, "{} load_state_scalars: missing entry 'step'", kind_);
  DENDRITE_CHECK(lr != nullptr, "{} load_state_scalars: missing entry 'lr'", kind_);
  DENDRITE_CHECK(*step >= 0 && *step == std::floor(*step) && *step < 9.0e15,
                 "{} load_state_scalars: 'step' must be a non-negative integer, got {}", kind_, *step);
  check_lr(kind_, *lr);
  step_count_ = static_cast<int64_t>(*step);
  lr_ = *lr;
}

}  // namespace dendrite::optim
