// The per-tensor autograd record and the recording of nodes by ops.
#include "dendrite/autograd/autograd.h"

namespace dendrite::autograd {

namespace {
thread_local bool t_grad_enabled = true;
}

bool is_grad_enabled() { return t_grad_enabled; }
void set_grad_enabled(bool enabled) { t_grad_enabled = enabled; }

AutogradMeta* meta(const TensorBase& t) { return t.defined() ? t.impl().autograd.get() : nullptr; }

AutogradMeta& ensure_meta(const TensorBase& t) {
  auto& slot = t.impl().autograd;
  if (!slot) slot = std::make_shared<AutogradMeta>();
  return *slot;
}

bool requires_grad(const TensorBase& t) {
  const AutogradMeta* m = meta(t);
  return m != nullptr && (m->requires_grad || m->grad_fn != nullptr);
}

bool is_leaf(const TensorBase& t) {
  const AutogradMeta* m = meta(t);
  return m == nullptr || m->grad_fn == nullptr;
}

void set_requires_grad(const TensorBase& t, bool requires_grad) {
  DENDRITE_CHECK(is_leaf(t),
                 "requires_grad: can only be changed on leaf tensors; {} is the output of '{}' "
                 "(use detach() for a leaf copy)",
                 describe(t), meta(t)->grad_fn->name);
  DENDRITE_CHECK(!requires_grad || is_floating(t.dtype()),
                 "requires_grad: only floating-point tensors can require gradients, got {}", describe(t));
  ensure_meta(t).requires_grad = requires_grad;
}

Edge gradient_edge(const TensorBase& t) {
  AutogradMeta* m = meta(t);
  if (m == nullptr) return {};
  if (m->grad_fn) return {m->grad_fn};
  if (!m->requires_grad) return {};
  std::shared_ptr<Node> acc = m->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<Node>();
    acc->name = "AccumulateGrad";
    acc->is_accumulator = true;
    acc->leaf = t.impl_ptr();
    acc->output_shape = t.shape();
    m->grad_accumulator = acc;
  }
  return {acc};
}

void register_hook(const TensorBase& t, GradHook hook) {
  DENDRITE_CHECK(requires_grad(t), "register_hook: tensor {} does not require grad", describe(t));
  AutogradMeta& m = ensure_meta(t);
  if (m.grad_fn) {
    m.grad_fn->hooks.push_back(std::move(hook));
  } else {
    m.leaf_hooks.push_back(std::move(hook));
  }
}

bool should_record(std::initializer_list<const TensorBase*> inputs) {
  if (!is_grad_enabled()) return false;
  for (const TensorBase* t : inputs) {
    if (t != nullptr && t->defined() && requires_grad(*t)) return true;
  }
  return false;
}

bool should_record(const std::vector<TensorBase>& inputs) {
  if (!is_grad_enabled()) return false;
  for (const TensorBase& t : inputs) {
    if (t.defined() && requires_grad(t)) return true;
  }
  return false;
}

void record(const char* name, const TensorBase& output, const std::vector<TensorBase>& inputs, BackwardFn fn) {
  auto node = std::make_shared<Node>();
  node->name = name;
  node->backward = std::move(fn);
  node->output_shape = output.shape();
  node->next.reserve(inputs.size());
  for (const TensorBase& in : inputs) node->next.push_back(in.defined() ? gradient_edge(in) : Edge{});
  AutogradMeta& m = ensure_meta(output);
  DENDRITE_ASSERT(m.grad_fn == nullptr);
  m.grad_fn = std::move(node);
}

}  // namespace dendrite::autograd
