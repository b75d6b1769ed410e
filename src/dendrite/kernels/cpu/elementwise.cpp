// cpu copy, fill, unary and binary. Contiguous operands (or operands stored alike in one dense
// order) go straight to one tight loop over the flat range; anything else takes the collapsed
// strided walk of loops_iter.h, one loop per run. A run whose operands all have stride 1 or whose
// input has stride 0 (a scalar or a broadcast inner axis) gets a `#pragma omp simd` loop over raw
// pointers; any other run gets a plain strided loop. Each element is read before the element at
// the same index is written, so `out` may be the same view as an input (the autograd engine
// accumulates gradients in place).
#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <type_traits>

#include "dendrite/core/memory_format.h"
#include "dendrite/kernels/cpu/cpu.h"
#include "dendrite/kernels/cpu/loops_iter.h"
#include "dendrite/kernels/cpu/loops_math.h"

namespace dendrite::kernels::cpu {

namespace {

template <typename T>
T* data(const TensorBase& t) {
  return static_cast<T*>(t.raw_data());
}

// Whether the operands (of one shape) can be walked as one flat array: all contiguous, or all
// stored alike in one dense order (channels-last activations, core/memory_format.h), where the
// same flat index names the same element in each.
bool one_flat_run(std::initializer_list<const TensorBase*> operands) {
  const TensorBase& first = **operands.begin();
  bool contiguous = true, same_strides = true;
  for (const TensorBase* t : operands) {
    contiguous = contiguous && t->is_contiguous();
    same_strides = same_strides && t->strides() == first.strides();
  }
  return contiguous || (same_strides && is_dense(first));
}

// ---- copy ------------------------------------------------------------------------------------

template <typename S, typename D>
void copy_run(int64_t n, const S* src, int64_t ss, D* dst, int64_t sd) {
  if (sd == 1 && ss == 1) {
    if constexpr (std::is_same_v<S, D>) {
      std::memmove(dst, src, static_cast<size_t>(n) * sizeof(D));  // memmove: src may be dst
    } else {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) dst[i] = convert<D>(src[i]);
    }
  } else if (sd == 1 && ss == 0) {
    std::fill_n(dst, n, convert<D>(*src));
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i * sd] = convert<D>(src[i * ss]);
  }
}

// Dispatched by the source dtype; the destination may have any dtype and any strides.
void copy(const TensorBase& src, const TensorBase& dst) {
  auto loop = collapse<2>(dst.shape(), {&src.strides(), &dst.strides()});
  visit_dtype(src.dtype(), [&](auto src_tag) {
    using S = decltype(src_tag);
    visit_dtype(dst.dtype(), [&](auto dst_tag) {
      using D = decltype(dst_tag);
      const S* s = data<const S>(src);
      D* d = data<D>(dst);
      parallel_runs(loop, kParallelGrain, [&](int64_t n, const std::array<int64_t, 2>& o) {
        copy_run(n, s + o[0], loop.inner_stride(0), d + o[1], loop.inner_stride(1));
      });
    });
  });
}

// ---- fill ------------------------------------------------------------------------------------

void fill(const TensorBase& dst, Scalar value) {
  auto loop = collapse<1>(dst.shape(), {&dst.strides()});
  visit_dtype(dst.dtype(), [&](auto tag) {
    using D = decltype(tag);
    const D v = value.is_floating() ? convert<D>(value.to_double()) : convert<D>(value.to_int());
    D* d = data<D>(dst);
    const int64_t step = loop.inner_stride(0);
    parallel_runs(loop, kParallelGrain, [&](int64_t n, const std::array<int64_t, 1>& o) {
      if (step == 1) {
        std::fill_n(d + o[0], n, v);
      } else {
        for (int64_t i = 0; i < n; ++i) d[o[0] + i * step] = v;
      }
    });
  });
}

// ---- unary -----------------------------------------------------------------------------------

template <typename T, typename F>
void unary_run(int64_t n, const T* x, int64_t sx, T* y, int64_t sy, F f) {
  if (sy == 1 && sx == 1) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
  } else if (sy == 1 && sx == 0) {
    std::fill_n(y, n, f(*x));
  } else {
    for (int64_t i = 0; i < n; ++i) y[i * sy] = f(x[i * sx]);
  }
}

template <typename T>
void unary_typed(UnaryOp op, const TensorBase& x, const TensorBase& out) {
  const T* px = data<const T>(x);
  T* po = data<T>(out);
  if (one_flat_run({&x, &out})) {
    with_unary(op, [&](auto f) {
      parallel_for(0, out.numel(), kParallelGrain,
                   [&](int64_t lo, int64_t hi) { unary_run(hi - lo, px + lo, 1, po + lo, 1, f); });
    });
    return;
  }
  auto loop = collapse<2>(out.shape(), {&x.strides(), &out.strides()});
  with_unary(op, [&](auto f) {
    parallel_runs(loop, kParallelGrain, [&](int64_t n, const std::array<int64_t, 2>& o) {
      unary_run(n, px + o[0], loop.inner_stride(0), po + o[1], loop.inner_stride(1), f);
    });
  });
}

void unary(UnaryOp op, const TensorBase& x, const TensorBase& out) {
  if (x.dtype() == DType::f64) {
    unary_typed<double>(op, x, out);
  } else {
    unary_typed<float>(op, x, out);
  }
}

// ---- binary ----------------------------------------------------------------------------------

template <typename T, typename F>
void binary_run(int64_t n, const T* a, int64_t sa, const T* b, int64_t sb, T* out, int64_t so, F f) {
  if (so == 1 && sa == 1 && sb == 1) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
  } else if (so == 1 && sa == 1 && sb == 0) {
    const T vb = *b;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], vb);
  } else if (so == 1 && sa == 0 && sb == 1) {
    const T va = *a;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = f(va, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i * so] = f(a[i * sa], b[i * sb]);
  }
}

template <typename T, typename F>
void binary_loop(const TensorBase& a, const TensorBase& b, const TensorBase& out, F f) {
  const T* pa = data<const T>(a);
  const T* pb = data<const T>(b);
  T* po = data<T>(out);
  if (one_flat_run({&a, &b, &out})) {
    parallel_for(0, out.numel(), kParallelGrain,
                 [&](int64_t lo, int64_t hi) { binary_run(hi - lo, pa + lo, 1, pb + lo, 1, po + lo, 1, f); });
    return;
  }
  auto loop = collapse<3>(out.shape(), {&a.strides(), &b.strides(), &out.strides()});
  parallel_runs(loop, kParallelGrain, [&](int64_t n, const std::array<int64_t, 3>& o) {
    binary_run(n, pa + o[0], loop.inner_stride(0), pb + o[1], loop.inner_stride(1), po + o[2], loop.inner_stride(2), f);
  });
}

template <typename T>
void binary_typed(BinaryOp op, const TensorBase& a, const TensorBase& b, const TensorBase& out) {
  if constexpr (std::is_integral_v<T>) {
    with_binary_int(op, [&](auto f) {
      binary_loop<T>(a, b, out, [f](T x, T y) { return static_cast<T>(f(int64_t{x}, int64_t{y})); });
    });
  } else {
    with_binary(op, [&](auto f) { binary_loop<T>(a, b, out, f); });
  }
}

void binary(BinaryOp op, const TensorBase& a, const TensorBase& b, const TensorBase& out) {
  switch (a.dtype()) {
    case DType::f64: return binary_typed<double>(op, a, b, out);
    case DType::i32: return binary_typed<int32_t>(op, a, b, out);
    case DType::i64: return binary_typed<int64_t>(op, a, b, out);
    default: return binary_typed<float>(op, a, b, out);
  }
}

}  // namespace

void register_elementwise(Registry& registry) {
  auto all = {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i8, DType::u8, DType::i32, DType::i64};
  registry.add<OpId::copy>(Backend::cpu, all, copy);
  registry.add<OpId::fill>(Backend::cpu, all, fill);
  registry.add<OpId::unary>(Backend::cpu, {DType::f32, DType::f64}, unary);
  registry.add<OpId::binary>(Backend::cpu, {DType::f32, DType::f64, DType::i32, DType::i64}, binary);
}

}  // namespace dendrite::kernels::cpu
