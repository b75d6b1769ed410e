// What every oneDNN-backed cpu kernel shares: the one CPU engine of the process, a stream per
// calling thread, memory objects over our tensors' buffers (no copies), and the translation of
// oneDNN failures into dendrite::Error.
//
// Thread-safety: the engine is created once and is immutable; streams are thread_local because a
// oneDNN stream is not meant to be driven from several threads at once. Primitives themselves are
// immutable and may run concurrently from any thread.
#pragma once

#include <mutex>

#include <dnnl.hpp>
#include <utility>

#include "dendrite/core/error.h"
#include "dendrite/core/tensor_base.h"

namespace dendrite::kernels::cpu::onednn {

dnnl::engine& engine();
dnnl::stream& stream();
// oneDNN 2.6 as Debian builds it keeps one library-managed scratchpad per primitive (it is not
// built with DNNL_ENABLE_CONCURRENT_EXEC), so a cached primitive must not run on two threads at
// once: callers hold this lock, striped by primitive address, while it executes. Measured: 108 of
// 2160 results wrong with 4 threads sharing two cached primitives under ASan, without it.
std::mutex& execution_lock(const void* primitive);

// Dims and strides of t as oneDNN wants them (int64 both, so only a container change).
dnnl::memory::dims dims_of(const Shape& shape);
// A plain f32 descriptor with the given dims and strides; throws dnnl::error when oneDNN refuses
// the layout (for instance overlapping strides), which callers treat as "copy and retry".
dnnl::memory::desc f32_desc(const dnnl::memory::dims& dims, const dnnl::memory::dims& strides);
// A dense row-major f32 descriptor.
dnnl::memory::desc f32_dense_desc(const dnnl::memory::dims& dims);

// A memory object that reads and writes `data` in place.
dnnl::memory wrap(const dnnl::memory::desc& desc, const float* data);

// t itself when it is dense row-major, otherwise a dense copy (made with the registered copy
// kernel). oneDNN's fast paths want plain layouts; a copy costs far less than a reference loop.
TensorBase dense(const TensorBase& t);

// Image activations [N, C, H, W] (conv, pooling). One stored channels-last (core/memory_format.h;
// an [N, 1, H, W] tensor counts: it is also NCHW) is described to oneDNN as nhwc, so that it
// matches a channels-last partner without a copy; any other is read as dense NCHW.
bool is_nhwc(const TensorBase& t);
// t as oneDNN will read it: itself when channels-last or dense NCHW, else a dense NCHW copy.
TensorBase activation(const TensorBase& t);
// t stored as nhwc (channels-last) or as dense NCHW, as asked: itself when it already is, else a
// copy. Primitives whose operands mix nhwc with another layout fall back to oneDNN's reference
// kernels, so a kernel brings them all to one.
TensorBase activation_as(const TensorBase& t, bool nhwc);
// The f32 descriptor of an activation of `shape`: nhwc or dense NCHW.
dnnl::memory::desc activation_desc(const Shape& shape, bool nhwc);
// Outputs are written in place, so they must be one of those two layouts (the ops layer allocates
// them so); throws naming the op otherwise.
void check_activation_output(const char* op, const TensorBase& t);

// Runs body(); a dnnl::error escaping it becomes a dendrite::Error naming the op, so that a
// oneDNN refusal surfaces as a catchable error rather than a crash.
template <typename Body>
void guarded(const char* op, Body&& body) {
  try {
    std::forward<Body>(body)();
  } catch (const dnnl::error& e) {
    fail("{}: oneDNN failed: {} (status {})", op, e.what(), static_cast<int>(e.status));
  }
}

}  // namespace dendrite::kernels::cpu::onednn
