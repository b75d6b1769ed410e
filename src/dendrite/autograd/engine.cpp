// The backward engine: dependency counting over the reachable nodes, then a ready-stack walk, so
// every node runs exactly once with the sum of all gradients that flow into it.
#include <unordered_map>

#include "dendrite/autograd/autograd.h"
#include "dendrite/core/memory_format.h"
#include "dendrite/kernels/registry.h"

namespace dendrite::autograd {

namespace {

TensorBase ones_like(const TensorBase& t) {
  TensorBase out = TensorBase::empty(t.shape(), t.dtype(), t.device());
  kernels::dispatch<kernels::OpId::fill>(t.dtype())(out, Scalar(1));
  return out;
}

TensorBase add(const TensorBase& a, const TensorBase& b) {
  TensorBase out = TensorBase::empty(a.shape(), a.dtype(), a.device());
  kernels::dispatch<kernels::OpId::binary>(a.dtype())(kernels::BinaryOp::add, a, b, out);
  return out;
}

// A tensor read by many nodes (an attention's projected keys, read at every decoder step) gets one
// gradient from each; the running sum is added into in place when nothing else holds its buffer,
// so a sum over T steps allocates nothing after the first.
void accumulate(TensorBase& slot, TensorBase grad) {
  if (!slot.defined()) {
    slot = std::move(grad);
  } else if (slot.impl_ptr().use_count() == 1 && slot.storage().unique() && is_dense(slot) &&
             slot.shape() == grad.shape() && slot.dtype() == grad.dtype()) {
    kernels::dispatch<kernels::OpId::binary>(slot.dtype())(kernels::BinaryOp::add, slot, grad, slot);
  } else {
    slot = add(slot, grad);
  }
}

// A gradient stored in .grad() must own its buffer: the same tensor may have been handed to
// several inputs (add's backward passes its gradient through), and .grad() is updated in place.
TensorBase owned_copy(const TensorBase& grad) {
  if (grad.storage().unique() && grad.is_contiguous() && grad.offset() == 0) return grad;
  TensorBase out = TensorBase::empty(grad.shape(), grad.dtype(), grad.device());
  kernels::dispatch<kernels::OpId::copy>(grad.dtype())(grad, out);
  return out;
}

void run_hooks(const std::vector<GradHook>& hooks, TensorBase& grad) {
  for (const GradHook& hook : hooks) {
    TensorBase replaced = hook(grad);
    if (replaced.defined()) grad = std::move(replaced);
  }
}

void accumulate_into_leaf(Node& node, TensorBase grad) {
  std::shared_ptr<TensorImpl> leaf = node.leaf.lock();
  if (!leaf || !leaf->autograd) return;  // the leaf is gone: nobody can read its gradient
  AutogradMeta& m = *leaf->autograd;
  if (!m.grad.defined()) {
    m.grad = owned_copy(grad);
  } else {
    kernels::dispatch<kernels::OpId::binary>(m.grad.dtype())(kernels::BinaryOp::add, m.grad, grad, m.grad);
  }
  TensorBase ready = m.grad;
  run_hooks(m.leaf_hooks, ready);
  if (!ready.is_same(m.grad)) m.grad = ready;
}

}  // namespace

void backward(const TensorBase& root, const TensorBase& grad, bool retain_graph) {
  DENDRITE_CHECK(root.defined(), "backward: called on an undefined tensor");
  DENDRITE_CHECK(requires_grad(root),
                 "backward: tensor {} does not require grad and has no grad_fn (did you forget "
                 "requires_grad, or compute it under NoGradGuard?)",
                 describe(root));
  TensorBase root_grad = grad;
  if (!root_grad.defined()) {
    DENDRITE_CHECK(root.numel() == 1,
                   "backward: grad can be implicitly created only for a one-element output; got shape "
                   "{} (pass a gradient of that shape)",
                   to_string(root.shape()));
    root_grad = ones_like(root);
  }
  DENDRITE_CHECK(root_grad.shape() == root.shape(), "backward: gradient shape {} does not match output shape {}",
                 to_string(root_grad.shape()), to_string(root.shape()));

  // Backward closures call ops; recording them would only build a graph nobody asked for
  // (higher-order gradients are not supported).
  NoGradGuard no_grad;
  Edge start = gradient_edge(root);
  // Count, for every reachable node, how many edges point at it.
  std::unordered_map<Node*, int> dependencies;
  std::vector<Node*> stack{start.node.get()};
  dependencies[start.node.get()] = 0;
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const Edge& e : node->next) {
      if (!e.node) continue;
      auto [it, inserted] = dependencies.try_emplace(e.node.get(), 0);
      ++it->second;
      if (inserted) stack.push_back(e.node.get());
    }
  }

  std::unordered_map<Node*, TensorBase> pending;
  pending[start.node.get()] = root_grad;
  std::vector<std::shared_ptr<Node>> ready{start.node};
  while (!ready.empty()) {
    std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();
    auto found = pending.find(node.get());
    TensorBase node_grad;
    if (found != pending.end()) {
      node_grad = std::move(found->second);
      pending.erase(found);
    }
    // A node that received no gradient (every path into it was undefined) still releases its
    // successors' dependency counts, so that their other gradients are not lost.
    std::vector<TensorBase> input_grads(node->next.size());
    if (node_grad.defined()) {
      run_hooks(node->hooks, node_grad);
      if (node->is_accumulator) {
        accumulate_into_leaf(*node, std::move(node_grad));
        continue;
      }
      DENDRITE_CHECK(!node->released,
                     "backward: trying to backward through the graph a second time: '{}' has freed "
                     "its saved tensors (pass retain_graph=true to the first backward)",
                     node->name);
      input_grads = node->backward(node_grad);
      DENDRITE_CHECK(input_grads.size() == node->next.size(),
                     "backward: '{}' returned {} gradients for {} inputs", node->name, input_grads.size(),
                     node->next.size());
      if (!retain_graph) {
        node->backward = nullptr;  // frees the tensors the closure saved
        node->released = true;
      }
    }
    for (size_t i = 0; i < node->next.size(); ++i) {
      const Edge& e = node->next[i];
      if (!e.node) continue;
      if (input_grads[i].defined()) {
        DENDRITE_CHECK(input_grads[i].shape() == e.node->output_shape,
                       "backward: '{}' produced a gradient of shape {} for an input of shape {}",
                       node->name, to_string(input_grads[i].shape()), to_string(e.node->output_shape));
        accumulate(pending[e.node.get()], std::move(input_grads[i]));
      }
      if (--dependencies[e.node.get()] == 0) ready.push_back(e.node);
    }
  }
}

}  // namespace dendrite::autograd
