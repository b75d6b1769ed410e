// A typed 4-D view of a tensor honouring arbitrary strides (transposed or broadcast inputs), for
// the reference convolution and pooling loops, which favour obviousness over speed.
//
// Internal to the reference backend.
#pragma once

#include <cstdint>

#include "dendrite/core/dtype.h"
#include "dendrite/core/tensor_base.h"

namespace dendrite::kernels::reference {

template <typename D>
struct View4 {
  D* base;
  int64_t s0, s1, s2, s3;
  explicit View4(const TensorBase& t)
      : base(static_cast<D*>(t.storage().data()) + t.offset()),
        s0(t.strides()[0]),
        s1(t.strides()[1]),
        s2(t.strides()[2]),
        s3(t.strides()[3]) {}
  D& operator()(int64_t a, int64_t b, int64_t c, int64_t d) const { return base[a * s0 + b * s1 + c * s2 + d * s3]; }
  double get(int64_t a, int64_t b, int64_t c, int64_t d) const { return convert<double>((*this)(a, b, c, d)); }
};

}  // namespace dendrite::kernels::reference
