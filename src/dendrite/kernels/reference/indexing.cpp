// Reference lookups and scatters by i64 index. Lookups copy elements unchanged (no round trip
// through double, so large i64 values survive); scatters accumulate into a double (int64 for
// integer dtypes) copy of dst and round once on store, so duplicate indices sum exactly in order.
#include <type_traits>
#include <vector>

#include "dendrite/core/strided_loop.h"
#include "dendrite/kernels/reference/reference.h"

namespace dendrite::kernels::reference {

namespace {

template <typename T>
T* data(const TensorBase& t) {
  return static_cast<T*>(t.storage().data()) + t.offset();
}

template <typename T>
using Accumulator = std::conditional_t<std::is_integral_v<T>, int64_t, double>;

// `shape` with `axis` collapsed to 1: iterating it visits the first element of every slice.
Shape slice_starts(const Shape& shape, size_t axis) {
  Shape s = shape;
  s[axis] = 1;
  return s;
}

// A contiguous accumulator holding dst's values, and the store back into dst once summing is done.
template <typename D>
std::vector<Accumulator<D>> load(const TensorBase& dst) {
  std::vector<Accumulator<D>> acc(static_cast<size_t>(dst.numel()));
  const D* pd = data<D>(dst);
  for_each_offset(dst.shape(), {dst.strides(), contiguous_strides(dst.shape())},
                  [&](const int64_t* o) { acc[static_cast<size_t>(o[1])] = convert<Accumulator<D>>(pd[o[0]]); });
  return acc;
}

template <typename D>
void store(const std::vector<Accumulator<D>>& acc, const TensorBase& dst) {
  D* pd = data<D>(dst);
  for_each_offset(dst.shape(), {dst.strides(), contiguous_strides(dst.shape())},
                  [&](const int64_t* o) { pd[o[0]] = convert<D>(acc[static_cast<size_t>(o[1])]); });
}

// out[.., k, ..] = src[.., index[k], ..]
void index_select(const TensorBase& src, int64_t axis, const TensorBase& index, const TensorBase& out) {
  const auto a = static_cast<size_t>(axis);
  const int64_t count = index.shape()[0], index_step = index.strides()[0];
  const int64_t src_step = src.strides()[a], out_step = out.strides()[a];
  const int64_t* pi = data<int64_t>(index);
  visit_dtype(src.dtype(), [&](auto tag) {
    using D = decltype(tag);
    const D* ps = data<D>(src);
    D* po = data<D>(out);
    for_each_offset(slice_starts(out.shape(), a), {src.strides(), out.strides()}, [&](const int64_t* o) {
      for (int64_t k = 0; k < count; ++k) po[o[1] + k * out_step] = ps[o[0] + pi[k * index_step] * src_step];
    });
  });
}

// dst[.., index[k], ..] += src[.., k, ..]
void index_add(const TensorBase& dst, int64_t axis, const TensorBase& index, const TensorBase& src) {
  const auto a = static_cast<size_t>(axis);
  const int64_t count = index.shape()[0], index_step = index.strides()[0];
  const int64_t src_step = src.strides()[a];
  const int64_t* pi = data<int64_t>(index);
  const Strides acc_strides = contiguous_strides(dst.shape());
  const int64_t acc_step = acc_strides[a];
  visit_dtype(dst.dtype(), [&](auto tag) {
    using D = decltype(tag);
    auto acc = load<D>(dst);
    const D* ps = data<D>(src);
    for_each_offset(slice_starts(src.shape(), a), {src.strides(), acc_strides}, [&](const int64_t* o) {
      for (int64_t k = 0; k < count; ++k) {
        acc[static_cast<size_t>(o[1] + pi[k * index_step] * acc_step)] +=
            convert<Accumulator<D>>(ps[o[0] + k * src_step]);
      }
    });
    store<D>(acc, dst);
  });
}

// out[i] = src[i with i[axis] replaced by index[i]], over every position i of index.
void gather(const TensorBase& src, int64_t axis, const TensorBase& index, const TensorBase& out) {
  const auto a = static_cast<size_t>(axis);
  Strides src_strides = src.strides();
  const int64_t src_step = src_strides[a];
  src_strides[a] = 0;  // the position along axis comes from index, not from the loop
  const int64_t* pi = data<int64_t>(index);
  visit_dtype(src.dtype(), [&](auto tag) {
    using D = decltype(tag);
    const D* ps = data<D>(src);
    D* po = data<D>(out);
    for_each_offset(index.shape(), {src_strides, index.strides(), out.strides()},
                    [&](const int64_t* o) { po[o[2]] = ps[o[0] + pi[o[1]] * src_step]; });
  });
}

// dst[i with i[axis] replaced by index[i]] += src[i], over every position i of index.
void scatter_add(const TensorBase& dst, int64_t axis, const TensorBase& index, const TensorBase& src) {
  const auto a = static_cast<size_t>(axis);
  Strides acc_strides = contiguous_strides(dst.shape());
  const int64_t acc_step = acc_strides[a];
  acc_strides[a] = 0;
  const int64_t* pi = data<int64_t>(index);
  visit_dtype(dst.dtype(), [&](auto tag) {
    using D = decltype(tag);
    auto acc = load<D>(dst);
    const D* ps = data<D>(src);
    for_each_offset(index.shape(), {index.strides(), src.strides(), acc_strides}, [&](const int64_t* o) {
      acc[static_cast<size_t>(o[2] + pi[o[0]] * acc_step)] += convert<Accumulator<D>>(ps[o[1]]);
    });
    store<D>(acc, dst);
  });
}

}  // namespace

void register_indexing(Registry& registry) {
  auto all = {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i8, DType::u8, DType::i32, DType::i64};
  registry.add<OpId::index_select>(Backend::reference, all, index_select);
  registry.add<OpId::index_add>(Backend::reference, all, index_add);
  registry.add<OpId::gather>(Backend::reference, all, gather);
  registry.add<OpId::scatter_add>(Backend::reference, all, scatter_add);
}

}  // namespace dendrite::kernels::reference
