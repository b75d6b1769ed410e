#include "dendrite/kernels/registry.h"

#include <fmt/format.h>

#include "dendrite/kernels/backends.h"

namespace dendrite::kernels {

std::string_view name(Backend backend) {
  switch (backend) {
    case Backend::reference: return "reference";
    case Backend::cpu: return "cpu";
    case Backend::cuda: return "cuda";
    case Backend::count: break;
  }
  return "?";
}

Registry& Registry::global() {
  static Registry registry = [] {
    Registry r;
    register_reference_backend(r);
    register_cpu_backend(r);
    return r;
  }();
  return registry;
}

namespace {
thread_local std::vector<Backend> t_order = {Backend::cpu, Backend::reference};
}

std::span<const Backend> backend_order() { return t_order; }

ScopedBackend::ScopedBackend(std::vector<Backend> order) : previous_(std::move(t_order)) {
  t_order = std::move(order);
}

ScopedBackend::~ScopedBackend() { t_order = std::move(previous_); }

void fail_no_kernel(OpId op, const char* op_name, DType dtype) {
  (void)op;
  std::vector<std::string_view> tried;
  for (Backend b : backend_order()) tried.push_back(name(b));
  fail("{}: no kernel for dtype {} (backends tried: {})", op_name, name(dtype), fmt::join(tried, ", "));
}

std::optional<Backend> dispatched_backend(OpId op, DType dtype) {
  for (Backend b : backend_order()) {
    if (Registry::global().has(op, b, dtype)) return b;
  }
  return std::nullopt;
}

}  // namespace dendrite::kernels
