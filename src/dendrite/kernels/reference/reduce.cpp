#include <limits>
#include <vector>

#include "dendrite/core/strided_loop.h"
#include "dendrite/kernels/reference/reference.h"

namespace dendrite::kernels::reference {

namespace {

void reduce(ReduceOp op, const TensorBase& x, const TensorBase& out) {
  // Accumulate in double at out's contiguous positions; reduced axes get stride 0.
  Strides acc_strides = contiguous_strides(out.shape());
  for (size_t i = 0; i < acc_strides.size(); ++i) {
    if (out.shape()[i] == 1 && x.shape()[i] != 1) acc_strides[i] = 0;
  }
  double init = op == ReduceOp::sum ? 0.0
                : op == ReduceOp::max ? -std::numeric_limits<double>::infinity()
                                      : std::numeric_limits<double>::infinity();
  std::vector<double> acc(static_cast<size_t>(out.numel()), init);
  visit_dtype(x.dtype(), [&](auto tag) {
    using D = decltype(tag);
    const D* px = static_cast<const D*>(x.storage().data()) + x.offset();
    for_each_offset(x.shape(), {x.strides(), acc_strides}, [&](const int64_t* o) {
      double v = convert<double>(px[o[0]]);
      double& a = acc[static_cast<size_t>(o[1])];
      switch (op) {
        case ReduceOp::sum: a += v; break;
        case ReduceOp::max: a = (v > a || v != v) ? v : a; break;  // NaN propagates
        case ReduceOp::min: a = (v < a || v != v) ? v : a; break;
        case ReduceOp::count: break;
      }
    });
    D* po = static_cast<D*>(out.storage().data()) + out.offset();
    size_t i = 0;
    for_each_offset(out.shape(), {out.strides()}, [&](const int64_t* o) { po[o[0]] = convert<D>(acc[i++]); });
  });
}

void argmax(const TensorBase& x, int64_t axis, const TensorBase& out) {
  const int64_t n = x.shape()[static_cast<size_t>(axis)];
  const int64_t step = x.strides()[static_cast<size_t>(axis)];
  visit_dtype(x.dtype(), [&](auto tag) {
    using D = decltype(tag);
    const D* px = static_cast<const D*>(x.storage().data()) + x.offset();
    int64_t* po = static_cast<int64_t*>(out.storage().data()) + out.offset();
    for_each_offset(out.shape(), {x.strides(), out.strides()}, [&](const int64_t* o) {
      int64_t best = 0;
      double best_value = convert<double>(px[o[0]]);
      for (int64_t i = 1; i < n; ++i) {
        double v = convert<double>(px[o[0] + i * step]);
        if (v > best_value) {
          best = i;
          best_value = v;
        }
      }
      po[o[1]] = best;
    });
  });
}

}  // namespace

void register_reduce(Registry& registry) {
  auto all = {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i8, DType::u8, DType::i32, DType::i64};
  registry.add<OpId::reduce>(Backend::reference, all, reduce);
  registry.add<OpId::argmax>(Backend::reference, all, argmax);
}

}  // namespace dendrite::kernels::reference
