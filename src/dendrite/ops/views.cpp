// Views: new shape/strides over the same storage. Each records a backward that maps the gradient
// back onto the base's shape.
#include "dendrite/ops/views.h"

#include <algorithm>
#include <numeric>

#include "dendrite/kernels/registry.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/reduction.h"

namespace dendrite {

namespace {

Tensor make_view(const char* name, const Tensor& x, const Shape& shape, const Strides& strides,
                 int64_t offset, autograd::BackwardFn backward) {
  Tensor out = x.as_strided(shape, strides, offset);
  if (autograd::should_record({&x})) autograd::record(name, out, {x}, std::move(backward));
  return out;
}

std::vector<int64_t> inverse_permutation(const std::vector<int64_t>& axes) {
  std::vector<int64_t> inverse(axes.size());
  for (size_t i = 0; i < axes.size(); ++i) inverse[static_cast<size_t>(axes[i])] = static_cast<int64_t>(i);
  return inverse;
}

// The gradient of a view that picks a subset of x's elements: zeros with the gradient copied into
// the same view of a fresh buffer.
Tensor scatter_into_zeros(const Tensor& grad, const Shape& base_shape, const Shape& view_shape,
                          const Strides& view_strides_in_base, int64_t view_offset_in_base) {
  Tensor out = zeros(base_shape, grad.dtype());
  TensorBase window = out.as_strided(view_shape, view_strides_in_base, view_offset_in_base);
  kernels::dispatch<kernels::OpId::copy>(grad.dtype())(grad, window);
  return out;
}

}  // namespace

Shape infer_shape(const char* op, const Shape& shape, int64_t numel, const Shape& from) {
  Shape out = shape;
  int64_t known = 1;
  int infer_at = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      DENDRITE_CHECK(infer_at < 0, "{}: only one dimension can be -1 in {}", op, to_string(shape));
      infer_at = static_cast<int>(i);
    } else {
      DENDRITE_CHECK(out[i] >= 0, "{}: invalid dimension {} in {}", op, out[i], to_string(shape));
      known *= out[i];
    }
  }
  if (infer_at >= 0) {
    DENDRITE_CHECK(known != 0 && numel % known == 0, "{}: shape {} is invalid for input of shape {}", op,
                   to_string(shape), to_string(from));
    out[static_cast<size_t>(infer_at)] = numel / known;
  }
  DENDRITE_CHECK(dendrite::numel(out) == numel, "{}: shape {} is invalid for input of shape {}", op,
                 to_string(shape), to_string(from));
  return out;
}

std::optional<Strides> view_strides(const TensorBase& x, const Shape& shape) {
  if (x.numel() == 0 || x.dim() == 0) return contiguous_strides(shape);
  const Shape& old_shape = x.shape();
  const Strides& old_strides = x.strides();
  Strides strides(shape.size());
  // Walk x's axes from the innermost, grouping axes that are contiguous with each other into
  // chunks; every chunk must map onto a whole group of the new axes.
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = x.dim() - 1; d >= 0; --d) {
    tensor_numel *= old_shape[static_cast<size_t>(d)];
    bool chunk_ends = d == 0 || (old_shape[static_cast<size_t>(d - 1)] != 1 &&
                                 old_strides[static_cast<size_t>(d - 1)] != tensor_numel * chunk_base_stride);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || shape[static_cast<size_t>(view_d)] == 1)) {
      strides[static_cast<size_t>(view_d)] = view_numel * chunk_base_stride;
      view_numel *= shape[static_cast<size_t>(view_d)];
      --view_d;
    }
    if (view_numel != tensor_numel) return std::nullopt;
    if (d > 0) {
      chunk_base_stride = old_strides[static_cast<size_t>(d - 1)];
      tensor_numel = 1;
      view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return strides;
}

Tensor Tensor::view(const Shape& shape) const {
  Shape target = infer_shape("view", shape, numel(), this->shape());
  auto strides = view_strides(*this, target);
  DENDRITE_CHECK(strides.has_value(),
                 "view: shape {} is not compatible with the strides {} of input {} (use reshape, which copies)",
                 to_string(target), to_string(this->strides()), to_string(this->shape()));
  Shape base_shape = this->shape();
  return make_view("view", *this, target, *strides, offset(),
                   [base_shape](const TensorBase& g) -> std::vector<TensorBase> {
                     return {Tensor(g).reshape(base_shape)};
                   });
}

Tensor Tensor::reshape(const Shape& shape) const {
  Shape target = infer_shape("reshape", shape, numel(), this->shape());
  if (view_strides(*this, target)) return view(target);
  return contiguous().view(target);
}

Tensor Tensor::flatten(int64_t start_axis, int64_t end_axis) const {
  if (dim() == 0) return reshape({1});
  int64_t start = normalize_axis("flatten", start_axis, dim());
  int64_t end = normalize_axis("flatten", end_axis, dim());
  DENDRITE_CHECK(start <= end, "flatten: start axis {} comes after end axis {}", start_axis, end_axis);
  Shape target(shape().begin(), shape().begin() + start);
  int64_t merged = 1;
  for (int64_t i = start; i <= end; ++i) merged *= shape()[static_cast<size_t>(i)];
  target.push_back(merged);
  target.insert(target.end(), shape().begin() + end + 1, shape().end());
  return reshape(target);
}

Tensor Tensor::permute(const std::vector<int64_t>& axes) const {
  DENDRITE_CHECK(static_cast<int64_t>(axes.size()) == dim(), "permute: {} axes given for a tensor of rank {}",
                 axes.size(), dim());
  std::vector<int64_t> norm(axes.size());
  std::vector<bool> seen(axes.size(), false);
  Shape shape_out(axes.size());
  Strides strides_out(axes.size());
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = normalize_axis("permute", axes[i], dim());
    DENDRITE_CHECK(!seen[static_cast<size_t>(a)], "permute: axis {} repeated in [{}]", a, fmt::join(axes, ", "));
    seen[static_cast<size_t>(a)] = true;
    norm[i] = a;
    shape_out[i] = shape()[static_cast<size_t>(a)];
    strides_out[i] = strides()[static_cast<size_t>(a)];
  }
  auto inverse = inverse_permutation(norm);
  return make_view("permute", *this, shape_out, strides_out, offset(),
                   [inverse](const TensorBase& g) -> std::vector<TensorBase> { return {Tensor(g).permute(inverse)}; });
}

Tensor Tensor::transpose(int64_t axis0, int64_t axis1) const {
  if (dim() == 0) return *this;
  std::vector<int64_t> axes(static_cast<size_t>(dim()));
  std::iota(axes.begin(), axes.end(), 0);
  std::swap(axes[static_cast<size_t>(normalize_axis("transpose", axis0, dim()))],
            axes[static_cast<size_t>(normalize_axis("transpose", axis1, dim()))]);
  return permute(axes);
}

Tensor Tensor::t() const {
  DENDRITE_CHECK(dim() <= 2, "t: expects a tensor of rank <= 2, got shape {}", to_string(shape()));
  return dim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::slice(int64_t axis, int64_t start, int64_t end, int64_t step) const {
  DENDRITE_CHECK(dim() > 0, "slice: cannot slice a zero-dimensional tensor");
  int64_t a = normalize_axis("slice", axis, dim());
  DENDRITE_CHECK(step > 0, "slice: step must be positive, got {}", step);
  int64_t n = shape()[static_cast<size_t>(a)];
  // Python-style clamping of negative and out-of-range bounds.
  auto clamp = [n](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + n : v, 0, n); };
  int64_t lo = clamp(start), hi = std::max(clamp(end), clamp(start));
  Shape shape_out = shape();
  Strides strides_out = strides();
  shape_out[static_cast<size_t>(a)] = (hi - lo + step - 1) / step;
  strides_out[static_cast<size_t>(a)] *= step;
  int64_t offset_out = offset() + lo * strides()[static_cast<size_t>(a)];
  // The gradient lands in the same window of a contiguous buffer shaped like x.
  Shape base_shape = shape();
  Strides window_strides = contiguous_strides(base_shape);
  int64_t window_offset = lo * window_strides[static_cast<size_t>(a)];
  window_strides[static_cast<size_t>(a)] *= step;
  return make_view("slice", *this, shape_out, strides_out, offset_out,
                   [=](const TensorBase& g) -> std::vector<TensorBase> {
                     return {scatter_into_zeros(Tensor(g), base_shape, shape_out, window_strides, window_offset)};
                   });
}

Tensor Tensor::narrow(int64_t axis, int64_t start, int64_t length) const {
  DENDRITE_CHECK(dim() > 0, "narrow: cannot narrow a zero-dimensional tensor");
  int64_t a = normalize_axis("narrow", axis, dim());
  int64_t n = shape()[static_cast<size_t>(a)];
  DENDRITE_CHECK(start >= 0 && length >= 0 && start + length <= n,
                 "narrow: range [{}, {}) is out of bounds for axis {} of size {}", start, start + length, a, n);
  return slice(a, start, start + length);
}

Tensor Tensor::select(int64_t axis, int64_t index) const {
  DENDRITE_CHECK(dim() > 0, "select: cannot select from a zero-dimensional tensor");
  int64_t a = normalize_axis("select", axis, dim());
  int64_t n = shape()[static_cast<size_t>(a)];
  DENDRITE_CHECK(index >= -n && index < n, "select: index {} is out of range for axis {} of size {}", index, a, n);
  if (index < 0) index += n;
  return slice(a, index, index + 1).squeeze(a);
}

Tensor Tensor::expand(const Shape& shape) const {
  DENDRITE_CHECK(static_cast<int64_t>(shape.size()) >= dim(), "expand: cannot expand {} to fewer dimensions {}",
                 to_string(this->shape()), to_string(shape));
  size_t lead = shape.size() - static_cast<size_t>(dim());
  Shape shape_out(shape.size());
  Strides strides_out(shape.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t want = shape[i];
    if (i < lead) {
      DENDRITE_CHECK(want >= 0, "expand: new leading dimension {} must be non-negative", want);
      shape_out[i] = want;
      continue;
    }
    int64_t have = this->shape()[i - lead];
    if (want == -1) want = have;
    DENDRITE_CHECK(want >= 0, "expand: invalid size {} for axis {} in {}", want, i, to_string(shape));
    DENDRITE_CHECK(have == want || have == 1, "expand: cannot expand {} to {} (axis {} has size {}, not 1)",
                   to_string(this->shape()), to_string(shape), i, have);
    shape_out[i] = want;
    strides_out[i] = have == want ? strides()[i - lead] : 0;
  }
  Shape base_shape = this->shape();
  return make_view("expand", *this, shape_out, strides_out, offset(),
                   [base_shape](const TensorBase& g) -> std::vector<TensorBase> {
                     return {sum_to_shape(Tensor(g), base_shape)};
                   });
}

Tensor Tensor::squeeze() const {
  Shape target;
  for (int64_t d : shape()) {
    if (d != 1) target.push_back(d);
  }
  return reshape(target);
}

Tensor Tensor::squeeze(int64_t axis) const {
  if (dim() == 0) return *this;
  int64_t a = normalize_axis("squeeze", axis, dim());
  if (shape()[static_cast<size_t>(a)] != 1) return *this;
  Shape target = shape();
  target.erase(target.begin() + a);
  return reshape(target);
}

Tensor Tensor::unsqueeze(int64_t axis) const {
  int64_t a = normalize_axis("unsqueeze", axis, dim() + 1);
  Shape target = shape();
  target.insert(target.begin() + a, 1);
  return reshape(target);
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = TensorBase::empty(shape(), dtype());
  kernels::dispatch<kernels::OpId::copy>(dtype())(*this, out);
  if (autograd::should_record({this})) {
    autograd::record("clone", out, {*this}, [](const TensorBase& g) -> std::vector<TensorBase> { return {g}; });
  }
  return out;
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  Tensor out = TensorBase::empty(shape(), target);
  kernels::dispatch<kernels::OpId::copy>(dtype())(*this, out);
  if (autograd::should_record({this}) && is_floating(target)) {
    DType source = dtype();
    autograd::record("to", out, {*this}, [source](const TensorBase& g) -> std::vector<TensorBase> {
      return {Tensor(g).to(source)};
    });
  }
  return out;
}

Tensor reshape(const Tensor& x, const Shape& shape) { return x.reshape(shape); }
Tensor transpose(const Tensor& x, int64_t axis0, int64_t axis1) { return x.transpose(axis0, axis1); }
Tensor permute(const Tensor& x, const std::vector<int64_t>& axes) { return x.permute(axes); }
Tensor expand(const Tensor& x, const Shape& shape) { return x.expand(shape); }
Tensor squeeze(const Tensor& x, int64_t axis) { return x.squeeze(axis); }
Tensor unsqueeze(const Tensor& x, int64_t axis) { return x.unsqueeze(axis); }
Tensor flatten(const Tensor& x, int64_t start_axis, int64_t end_axis) { return x.flatten(start_axis, end_axis); }

}  // namespace dendrite
