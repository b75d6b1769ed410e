// TensorBase: the data half of a tensor. A TensorImpl is a view (shape, strides, offset, dtype)
// onto a shared Storage; many views share one Storage, so reshape/transpose/slice/expand cost no
// copy. Strides are in elements and may be 0 (broadcast) or describe any permutation.
//
// This layer knows nothing of autograd or ops: the user-facing `Tensor` (ops/tensor.h) derives
// from TensorBase and adds the differentiable methods, and the autograd layer hangs its per-tensor
// record off `TensorImpl::autograd`. Kernels take TensorBase so that they cannot record history.
//
// Thread-safety: a TensorBase is a shared handle; concurrent reads are safe, concurrent writes to
// the same elements are the caller's business.
#pragma once

#include <memory>
#include <span>

#include "dendrite/core/dtype.h"
#include "dendrite/core/error.h"
#include "dendrite/core/shape.h"
#include "dendrite/core/storage.h"

namespace dendrite {

namespace autograd {
struct AutogradMeta;  // defined in autograd/meta.h; core only stores the pointer
}

struct TensorImpl {
  Storage storage;
  Shape shape;
  Strides strides;
  int64_t offset = 0;  // in elements
  DType dtype = DType::f32;
  std::shared_ptr<autograd::AutogradMeta> autograd;  // null until the tensor takes part in autograd
};

class TensorBase {
 public:
  TensorBase() = default;
  explicit TensorBase(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // A contiguous tensor with uninitialised elements.
  static TensorBase empty(const Shape& shape, DType dtype = DType::f32, Device device = kCPU);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t size(int64_t axis) const;  // negative axes count from the end
  int64_t numel() const { return dendrite::numel(impl().shape); }
  const Strides& strides() const { return impl().strides; }
  int64_t stride(int64_t axis) const;
  int64_t offset() const { return impl().offset; }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage.device(); }
  const Storage& storage() const { return impl().storage; }
  bool is_contiguous() const;

  // Address of the element at index [0, ..., 0].
  void* raw_data() const;
  // Typed address of element [0, ..., 0]; throws if T is not this tensor's dtype.
  template <typename T>
  T* data_ptr() const {
    DENDRITE_CHECK(dtype_v<T> == dtype(), "data_ptr: tensor has dtype {}, requested {}", name(dtype()),
                   name(dtype_v<T>));
    return static_cast<T*>(raw_data());
  }
  // The value of a one-element tensor, converted to T.
  template <typename T>
  T item() const {
    return visit_dtype(dtype(), [&](auto tag) {
      using S = decltype(tag);
      check_single_element("item");
      return convert<T>(*static_cast<const S*>(raw_data()));
    });
  }

  // A new view onto the same storage with no autograd history. The caller guarantees the view
  // stays inside the storage; `as_strided` checks it and throws otherwise.
  TensorBase as_strided(const Shape& shape, const Strides& strides, int64_t offset) const;
  // The same view in a fresh TensorImpl without autograd history (a "detached" handle).
  TensorBase alias() const { return as_strided(shape(), strides(), offset()); }

  bool is_same(const TensorBase& other) const { return impl_ == other.impl_; }
  TensorImpl& impl() const {
    DENDRITE_CHECK(impl_ != nullptr, "use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 protected:
  void check_single_element(const char* op) const;
  std::shared_ptr<TensorImpl> impl_;
};

std::string describe(const TensorBase& t);  // "f32 [64, 784]"

// A view of t broadcast to `shape` (stride 0 on broadcast axes), without autograd history; the
// shapes must be broadcast-compatible (checked by the caller with broadcast_shapes).
TensorBase broadcast_view(const TensorBase& t, const Shape& shape);

}  // namespace dendrite
