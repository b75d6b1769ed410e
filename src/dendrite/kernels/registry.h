// The kernel registry: (op, backend, dtype) -> function. Backends:
//   reference  plain, obviously-correct C++ for every op and dtype it claims; the oracle of the
//              conformance tests and the fallback for anything a fast backend lacks;
//   cpu        oneDNN primitives (matmul, convolution, pooling, softmax) and vectorised OpenMP loops;
//   cuda       reserved for the optional CUDA backend.
// dispatch<Op>(dtype) walks the active backend order (by default cpu then reference) and returns
// the first kernel registered for the pair. Tests pin one backend with ScopedBackend.
//
// Thread-safety: registration happens once, on first use, under a lock; lookups afterwards are
// read-only. The backend order is per thread.
#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "dendrite/kernels/ops.h"

namespace dendrite::kernels {

enum class Backend : uint8_t { reference, cpu, cuda, count };
inline constexpr int kNumBackends = static_cast<int>(Backend::count);
std::string_view name(Backend backend);

class Registry {
 public:
  // The process-wide registry, filled with every backend compiled into this build.
  static Registry& global();

  template <OpId Op>
  void add(Backend backend, DType dtype, typename KernelTraits<Op>::Fn fn) {
    slot(Op, backend, dtype) = reinterpret_cast<VoidFn>(fn);
  }
  // Registers fn for several dtypes at once.
  template <OpId Op>
  void add(Backend backend, std::initializer_list<DType> dtypes, typename KernelTraits<Op>::Fn fn) {
    for (DType d : dtypes) add<Op>(backend, d, fn);
  }

  template <OpId Op>
  typename KernelTraits<Op>::Fn find(Backend backend, DType dtype) const {
    return reinterpret_cast<typename KernelTraits<Op>::Fn>(table_[index(Op, backend, dtype)]);
  }
  bool has(OpId op, Backend backend, DType dtype) const { return table_[index(op, backend, dtype)] != nullptr; }

 private:
  using VoidFn = void (*)();
  static size_t index(OpId op, Backend backend, DType dtype) {
    return (static_cast<size_t>(op) * kNumBackends + static_cast<size_t>(backend)) * kNumDTypes +
           static_cast<size_t>(dtype);
  }
  VoidFn& slot(OpId op, Backend backend, DType dtype) { return table_[index(op, backend, dtype)]; }
  std::array<VoidFn, kNumOps * kNumBackends * kNumDTypes> table_{};
};

// The backends that dispatch tries on this thread, in order.
std::span<const Backend> backend_order();

// Pins the calling thread to the given backend order until destruction (tests, debugging):
//   ScopedBackend only_reference({Backend::reference});
class ScopedBackend {
 public:
  explicit ScopedBackend(std::vector<Backend> order);
  ~ScopedBackend();
  ScopedBackend(const ScopedBackend&) = delete;
  ScopedBackend& operator=(const ScopedBackend&) = delete;

 private:
  std::vector<Backend> previous_;
};

[[noreturn]] void fail_no_kernel(OpId op, const char* op_name, DType dtype);

// The kernel that serves Op for dtype on this thread, or an Error naming the op, the dtype and the
// backends tried.
template <OpId Op>
typename KernelTraits<Op>::Fn dispatch(DType dtype) {
  const Registry& registry = Registry::global();
  for (Backend b : backend_order()) {
    if (auto fn = registry.find<Op>(b, dtype)) return fn;
  }
  fail_no_kernel(Op, KernelTraits<Op>::name, dtype);
}

// Which backend dispatch would pick (for tests and `dendrite bench` reports).
std::optional<Backend> dispatched_backend(OpId op, DType dtype);

}  // namespace dendrite::kernels
