#include "dendrite/kernels/cpu/onednn_engine.h"

#include <array>
#include <cstdint>

#include "dendrite/core/memory_format.h"
#include "dendrite/kernels/registry.h"

namespace dendrite::kernels::cpu::onednn {

dnnl::engine& engine() {
  static dnnl::engine cpu_engine(dnnl::engine::kind::cpu, 0);
  return cpu_engine;
}

dnnl::stream& stream() {
  thread_local dnnl::stream thread_stream(engine());
  return thread_stream;
}

dnnl::memory::dims dims_of(const Shape& shape) { return dnnl::memory::dims(shape.begin(), shape.end()); }

dnnl::memory::desc f32_desc(const dnnl::memory::dims& dims, const dnnl::memory::dims& strides) {
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, strides);
}

dnnl::memory::desc f32_dense_desc(const dnnl::memory::dims& dims) {
  return f32_desc(dims, dims_of(contiguous_strides(Shape(dims.begin(), dims.end()))));
}

dnnl::memory wrap(const dnnl::memory::desc& desc, const float* data) {
  // oneDNN's handle is non-const even for inputs; the primitive only reads its sources.
  return dnnl::memory(desc, engine(), const_cast<float*>(data));
}

namespace {

// The cpu copy kernel when there is one, else the reference one: never the thread's pinned
// backend order, which a test may have narrowed to this backend alone.
KernelTraits<OpId::copy>::Fn copy_kernel(DType dtype) {
  const Registry& registry = Registry::global();
  auto fn = registry.find<OpId::copy>(Backend::cpu, dtype);
  return fn != nullptr ? fn : registry.find<OpId::copy>(Backend::reference, dtype);
}

}  // namespace

TensorBase dense(const TensorBase& t) {
  if (t.is_contiguous()) return t;
  TensorBase copy = TensorBase::empty(t.shape(), t.dtype());
  copy_kernel(t.dtype())(t, copy);
  return copy;
}

bool is_nhwc(const TensorBase& t) { return is_channels_last(t); }

TensorBase activation(const TensorBase& t) { return is_nhwc(t) ? t : dense(t); }

TensorBase activation_as(const TensorBase& t, bool nhwc) {
  if (!nhwc) return dense(t);
  if (is_nhwc(t)) return t;
  TensorBase copy = empty_in(MemoryFormat::channels_last, t.shape(), t.dtype());
  copy_kernel(t.dtype())(t, copy);
  return copy;
}

dnnl::memory::desc activation_desc(const Shape& shape, bool nhwc) {
  if (!nhwc) return f32_dense_desc(dims_of(shape));
  return {dims_of(shape), dnnl::memory::data_type::f32, dnnl::memory::format_tag::nhwc};
}

void check_activation_output(const char* op, const TensorBase& t) {
  DENDRITE_CHECK(t.is_contiguous() || is_nhwc(t), "{}: the output must be contiguous or channels-last, got strides {}",
                 op, to_string(t.strides()));
}

std::mutex& execution_lock(const void* primitive) {
  static std::array<std::mutex, 64> locks;
  return locks[(reinterpret_cast<uintptr_t>(primitive) >> 6) % locks.size()];
}

}  // namespace dendrite::kernels::cpu::onednn
