#include "dendrite/core/strided_loop.h"
#include "dendrite/kernels/reference/reference.h"

namespace dendrite::kernels::reference {

namespace {

// Splits off the last two axes: the batch shape and the per-operand batch strides.
Shape batch_shape(const TensorBase& t) { return Shape(t.shape().begin(), t.shape().end() - 2); }
Strides batch_strides(const TensorBase& t) { return Strides(t.strides().begin(), t.strides().end() - 2); }

template <typename D>
void matmul_typed(const TensorBase& a, const TensorBase& b, const TensorBase& bias, const TensorBase& out) {
  const int64_t rank = a.dim();
  const int64_t M = a.shape()[rank - 2], K = a.shape()[rank - 1], N = b.shape()[rank - 1];
  const int64_t am = a.strides()[rank - 2], ak = a.strides()[rank - 1];
  const int64_t bk = b.strides()[rank - 2], bn = b.strides()[rank - 1];
  const int64_t om = out.strides()[rank - 2], on = out.strides()[rank - 1];
  const D* pa = static_cast<const D*>(a.storage().data()) + a.offset();
  const D* pb = static_cast<const D*>(b.storage().data()) + b.offset();
  D* po = static_cast<D*>(out.storage().data()) + out.offset();
  const D* pbias = bias.defined() ? static_cast<const D*>(bias.storage().data()) + bias.offset() : nullptr;
  const int64_t bias_stride = bias.defined() ? bias.strides()[0] : 0;
  for_each_offset(batch_shape(out), {batch_strides(a), batch_strides(b), batch_strides(out)},
                  [&](const int64_t* o) {
                    for (int64_t m = 0; m < M; ++m) {
                      for (int64_t n = 0; n < N; ++n) {
                        double acc = pbias ? convert<double>(pbias[n * bias_stride]) : 0.0;
                        for (int64_t k = 0; k < K; ++k) {
                          acc += convert<double>(pa[o[0] + m * am + k * ak]) *
                                 convert<double>(pb[o[1] + k * bk + n * bn]);
                        }
                        po[o[2] + m * om + n * on] = convert<D>(acc);
                      }
                    }
                  });
}

void matmul(const TensorBase& a, const TensorBase& b, const TensorBase& bias, const TensorBase& out) {
  visit_dtype(a.dtype(), [&](auto tag) { matmul_typed<decltype(tag)>(a, b, bias, out); });
}

}  // namespace

void register_matmul(Registry& registry) {
  registry.add<OpId::matmul>(Backend::reference, {DType::f32, DType::f64, DType::bf16, DType::f16}, matmul);
}

}  // namespace dendrite::kernels::reference
