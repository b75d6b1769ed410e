// Softmax and log-softmax, forward and backward, on oneDNN's softmax_v2 primitives (algorithm
// softmax_accurate or softmax_log). A dense tensor softmaxed along one axis is, in memory, a
// [outer, axis, inner] block whatever its rank, so that is the shape oneDNN sees: one primitive
// serves every rank, and inner == 1 (the usual last-axis case) gives oneDNN the dense innermost
// axis its vectorised kernels want.
#include <unordered_map>

#include "dendrite/kernels/cpu/cpu.h"
#include "dendrite/kernels/cpu/onednn_cache.h"
#include "dendrite/kernels/cpu/onednn_engine.h"

namespace dendrite::kernels::cpu {

namespace {

using dnnl::memory;

enum SoftmaxKey : int64_t { kForward = 30, kBackward = 31 };

// The [outer, axis, inner] view of a dense tensor, dropping inner when it is 1.
memory::desc blocked_desc(const Shape& shape, int64_t axis) {
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= shape[static_cast<size_t>(i)];
  for (size_t i = static_cast<size_t>(axis) + 1; i < shape.size(); ++i) inner *= shape[i];
  const int64_t n = shape[static_cast<size_t>(axis)];
  return onednn::f32_dense_desc(inner == 1 ? memory::dims{outer, n} : memory::dims{outer, n, inner});
}

dnnl::algorithm algorithm(bool log) { return log ? dnnl::algorithm::softmax_log : dnnl::algorithm::softmax_accurate; }

dnnl::softmax_v2_forward::primitive_desc forward_pd(const memory::desc& md, bool log) {
  dnnl::softmax_v2_forward::desc desc(dnnl::prop_kind::forward_training, algorithm(log), md, md, 1);
  return {desc, onednn::engine()};
}

struct SoftmaxPlan {
  memory::desc md;
  dnnl::primitive primitive;
};

onednn::PrimitiveCache<SoftmaxPlan>& plan_cache() {
  static onednn::PrimitiveCache<SoftmaxPlan> cache;
  return cache;
}

onednn::PrimitiveKey softmax_key(SoftmaxKey kind, const Shape& shape, int64_t axis, bool log) {
  onednn::PrimitiveKey key(kind);
  key.add(shape).add(axis).add(log);
  return key;
}

const float* data(const TensorBase& t) { return static_cast<const float*>(t.raw_data()); }

void softmax_forward(const TensorBase& x, int64_t axis, bool log, const TensorBase& y) {
  onednn::guarded("softmax_forward", [&] {
    if (y.numel() == 0) return;
    if (axis < 0) axis += x.dim();
    auto plan = plan_cache().get(softmax_key(kForward, x.shape(), axis, log), [&] {
      memory::desc md = blocked_desc(x.shape(), axis);
      return SoftmaxPlan{md, dnnl::softmax_v2_forward(forward_pd(md, log))};
    });
    const TensorBase xd = onednn::dense(x);
    std::lock_guard run_lock(onednn::execution_lock(plan.get()));
    plan->primitive.execute(onednn::stream(), {{DNNL_ARG_SRC, onednn::wrap(plan->md, data(xd))},
                                               {DNNL_ARG_DST, onednn::wrap(plan->md, data(y))}});
    onednn::stream().wait();
  });
}

void softmax_backward(const TensorBase& y, const TensorBase& gy, int64_t axis, bool log, const TensorBase& gx) {
  onednn::guarded("softmax_backward", [&] {
    if (gx.numel() == 0) return;
    if (axis < 0) axis += y.dim();
    auto plan = plan_cache().get(softmax_key(kBackward, y.shape(), axis, log), [&] {
      memory::desc md = blocked_desc(y.shape(), axis);
      dnnl::softmax_v2_backward::desc desc(algorithm(log), md, md, md, 1);
      dnnl::softmax_v2_backward::primitive_desc pd(desc, onednn::engine(), forward_pd(md, log));
      return SoftmaxPlan{md, dnnl::softmax_v2_backward(pd)};
    });
    const TensorBase yd = onednn::dense(y), gyd = onednn::dense(gy);
    std::lock_guard run_lock(onednn::execution_lock(plan.get()));
    plan->primitive.execute(onednn::stream(), {{DNNL_ARG_DST, onednn::wrap(plan->md, data(yd))},
                                               {DNNL_ARG_DIFF_DST, onednn::wrap(plan->md, data(gyd))},
                                               {DNNL_ARG_DIFF_SRC, onednn::wrap(plan->md, data(gx))}});
    onednn::stream().wait();
  });
}

}  // namespace

void register_softmax(Registry& registry) {
  registry.add<OpId::softmax_forward>(Backend::cpu, DType::f32, softmax_forward);
  registry.add<OpId::softmax_backward>(Backend::cpu, DType::f32, softmax_backward);
}

}  // namespace dendrite::kernels::cpu
