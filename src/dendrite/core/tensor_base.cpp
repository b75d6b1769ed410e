#include "dendrite/core/tensor_base.h"

namespace dendrite {

TensorBase TensorBase::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) DENDRITE_CHECK(d >= 0, "empty: negative dimension in shape {}", to_string(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = Storage::allocate(static_cast<size_t>(dendrite::numel(shape)) * element_size(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return TensorBase(std::move(impl));
}

int64_t TensorBase::size(int64_t axis) const {
  DENDRITE_CHECK(dim() > 0, "size: a zero-dimensional tensor has no axis {}", axis);
  return shape()[normalize_axis("size", axis, dim())]; }

int64_t TensorBase::stride(int64_t axis) const {
  DENDRITE_CHECK(dim() > 0, "stride: a zero-dimensional tensor has no axis {}", axis);
  return strides()[normalize_axis("stride", axis, dim())]; }

bool TensorBase::is_contiguous() const {
  if (numel() == 0) return true;
  int64_t expected = 1;
  for (size_t i = shape().size(); i-- > 0;) {
    if (shape()[i] == 1) continue;
    if (strides()[i] != expected) return false;
    expected *= shape()[i];
  }
  return true;
}

void* TensorBase::raw_data() const {
  return static_cast<char*>(storage().data()) + offset() * static_cast<int64_t>(element_size(dtype()));
}

TensorBase TensorBase::as_strided(const Shape& shape, const Strides& strides, int64_t offset) const {
  DENDRITE_CHECK(shape.size() == strides.size(), "as_strided: shape {} and strides {} differ in rank",
                 to_string(shape), to_string(strides));
  // The lowest and highest element the view touches must lie inside the storage.
  int64_t lo = offset, hi = offset;
  bool empty = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    DENDRITE_CHECK(shape[i] >= 0, "as_strided: negative dimension in shape {}", to_string(shape));
    if (shape[i] == 0) empty = true;
    int64_t reach = (shape[i] - 1) * strides[i];
    (reach < 0 ? lo : hi) += reach;
  }
  int64_t capacity = static_cast<int64_t>(storage().bytes() / element_size(dtype()));
  DENDRITE_CHECK(empty || (lo >= 0 && hi < capacity),
                 "as_strided: view {} with strides {} at offset {} exceeds storage of {} elements",
                 to_string(shape), to_string(strides), offset, capacity);
  auto view = std::make_shared<TensorImpl>();
  view->storage = storage();
  view->shape = shape;
  view->strides = strides;
  view->offset = offset;
  view->dtype = dtype();
  return TensorBase(std::move(view));
}

void TensorBase::check_single_element(const char* op) const {
  DENDRITE_CHECK(numel() == 1, "{}: expected a tensor with one element, got shape {}", op, to_string(shape()));
}

std::string describe(const TensorBase& t) { return fmt::format("{} {}", name(t.dtype()), to_string(t.shape())); }

TensorBase broadcast_view(const TensorBase& t, const Shape& shape) {
  if (t.shape() == shape) return t;
  const size_t lead = shape.size() - t.shape().size();
  Strides strides(shape.size(), 0);
  DENDRITE_CHECK(shape.size() >= t.shape().size(), "broadcast: cannot broadcast {} to {}", to_string(t.shape()),
                 to_string(shape));
  for (size_t i = lead; i < shape.size(); ++i) {
    DENDRITE_CHECK(t.shape()[i - lead] == shape[i] || t.shape()[i - lead] == 1, "broadcast: cannot broadcast {} to {}",
                   to_string(t.shape()), to_string(shape));
    strides[i] = t.shape()[i - lead] == shape[i] ? t.strides()[i - lead] : 0;
  }
  return t.as_strided(shape, strides, t.offset());
}

}  // namespace dendrite
