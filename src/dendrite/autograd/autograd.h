// Autograd: an eager tape. Every differentiable op that sees an input requiring gradients records
// a Node: the gradient function (written beside the forward, in ops/) plus Edges to the nodes that
// produced its inputs. backward() walks the nodes reachable from the root in reverse topological
// order, so each node runs once, after all gradients flowing into it have been summed.
//
//   leaf tensors (parameters)  ->  AccumulateGrad nodes add into .grad() and fire the tensor's
//                                   gradient-ready hooks (the data-parallel reducer's entry point)
//   op outputs                 ->  Node{name, backward fn, edges}; the fn's captured tensors are
//                                   freed after backward unless retain_graph is set
//
// Saving a tensor inside a backward closure: save an alias (TensorBase::alias()) of an op's own
// output, never the output itself, or the node would keep itself alive through its output.
//
// Thread-safety: a graph belongs to the thread that built it; grad mode is per thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dendrite/core/tensor_base.h"

namespace dendrite::autograd {

struct Node;

// Where a gradient goes: the node that produced an input (op output or a leaf's accumulator).
struct Edge {
  std::shared_ptr<Node> node;
};

// Computes the gradients of a node's inputs from the gradient of its output. Entries for inputs
// that need no gradient may be left undefined.
using BackwardFn = std::function<std::vector<TensorBase>(const TensorBase& grad_output)>;
// Called with a gradient once it is complete; may return a replacement (or an undefined tensor to
// keep the gradient unchanged).
using GradHook = std::function<TensorBase(const TensorBase& grad)>;

struct Node {
  std::string name;             // the op, for error messages ("matmul")
  std::vector<Edge> next;       // one per input of the op; node is null for inputs without grad
  BackwardFn backward;          // null for leaf accumulators
  std::vector<GradHook> hooks;  // run on the incoming gradient before `backward`
  bool is_accumulator = false;     // a leaf's AccumulateGrad node
  std::weak_ptr<TensorImpl> leaf;  // for an accumulator: the leaf whose .grad() it fills
  Shape output_shape;           // the shape the incoming gradient must have
  bool released = false;        // saved tensors were freed by a backward without retain_graph
};

struct AutogradMeta {
  bool requires_grad = false;
  TensorBase grad;
  std::shared_ptr<Node> grad_fn;            // set for op outputs
  std::weak_ptr<Node> grad_accumulator;     // lazily created for leaves
  std::vector<GradHook> leaf_hooks;         // gradient-ready hooks of a leaf
};

// Grad mode: whether ops record history on this thread.
bool is_grad_enabled();
void set_grad_enabled(bool enabled);

// Disables recording for its lifetime (evaluation, optimiser updates).
class NoGradGuard {
 public:
  NoGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// --- per-tensor record ----------------------------------------------------------------------
AutogradMeta* meta(const TensorBase& t);         // null when the tensor never took part
AutogradMeta& ensure_meta(const TensorBase& t);  // creates it on first use
bool requires_grad(const TensorBase& t);
void set_requires_grad(const TensorBase& t, bool requires_grad);  // leaves only
bool is_leaf(const TensorBase& t);
// The edge along which a gradient for `t` flows: its grad_fn, or its leaf accumulator.
Edge gradient_edge(const TensorBase& t);
// Registers a hook on t: on a leaf, called when its gradient for this backward pass is complete
// (after accumulation into .grad()); on an op output, called on its gradient before it flows on.
void register_hook(const TensorBase& t, GradHook hook);

// --- recording ------------------------------------------------------------------------------
// True when grad mode is on and some input requires grad: the op should call record().
bool should_record(std::initializer_list<const TensorBase*> inputs);
bool should_record(const std::vector<TensorBase>& inputs);
// Attaches a new node to `output` with edges to `inputs` (in the order the BackwardFn returns
// their gradients).
void record(const char* name, const TensorBase& output, const std::vector<TensorBase>& inputs, BackwardFn fn);

// --- the engine -----------------------------------------------------------------------------
// Computes gradients of `root` with respect to every leaf that requires grad, accumulating into
// their .grad(). `grad` defaults to ones for a one-element root and is required otherwise.
void backward(const TensorBase& root, const TensorBase& grad = {}, bool retain_graph = false);

}  // namespace dendrite::autograd
