// The cpu backend's elementwise and reduction loops against the reference backend, kernel by
// kernel, on the layouts that pick different loops: contiguous, transposed and sliced (strided),
// broadcast (stride 0), scalar, and large enough (> kParallelGrain) to run on two threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "dendrite/core/random.h"
#include "dendrite/core/strided_loop.h"
#include "dendrite/core/threading.h"
#include "dendrite/kernels/registry.h"

namespace dendrite::kernels {
namespace {

enum class Layout { contiguous, transposed, sliced, broadcast_row, broadcast_col, scalar };

std::string layout_name(Layout l) {
  switch (l) {
    case Layout::contiguous: return "contiguous";
    case Layout::transposed: return "transposed";
    case Layout::sliced: return "sliced";
    case Layout::broadcast_row: return "broadcast_row";
    case Layout::broadcast_col: return "broadcast_col";
    case Layout::scalar: return "scalar";
  }
  return "?";
}

// Random values: normal * scale for floating dtypes (uniform in [0, -scale] for a negative scale:
// values every integer dtype holds, since converting others is undefined), integers in [-20, 20].
void fill_random(const TensorBase& t, Generator& gen, double scale = 1.0) {
  if (is_floating(t.dtype())) {
    if (scale < 0) {
      fill_uniform(t, 0.0, -scale, gen);
    } else {
      fill_normal(t, 0.0, scale, gen);
    }
    return;
  }
  visit_dtype(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(t.raw_data());
    for_each_offset(t.shape(), {t.strides()},
                    [&](const int64_t* o) { p[o[0]] = convert<T>(static_cast<int64_t>(gen.uniform() * 41.0) - 20); });
  });
}

// A random 2-D operand of `shape` laid out as asked (its buffer filled, then viewed).
TensorBase make(const Shape& shape, Layout layout, DType dtype, Generator& gen, double scale = 1.0) {
  const int64_t n = shape[0], m = shape[1];
  TensorBase base;
  switch (layout) {
    case Layout::contiguous: base = TensorBase::empty(shape, dtype); break;
    case Layout::transposed: base = TensorBase::empty({m, n}, dtype); break;
    case Layout::sliced: base = TensorBase::empty({n, 2 * m}, dtype); break;
    case Layout::broadcast_row: base = TensorBase::empty({1, m}, dtype); break;
    case Layout::broadcast_col: base = TensorBase::empty({n, 1}, dtype); break;
    case Layout::scalar: base = TensorBase::empty({}, dtype); break;
  }
  fill_random(base, gen, scale);
  switch (layout) {
    case Layout::transposed: return base.as_strided(shape, {1, n}, 0);
    case Layout::sliced: return base.as_strided(shape, {2 * m, 2}, 1);
    case Layout::contiguous: return base;
    default: return broadcast_view(base, shape);
  }
}

std::vector<double> values(const TensorBase& t) {
  std::vector<double> v;
  visit_dtype(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = static_cast<const T*>(t.raw_data());
    for_each_offset(t.shape(), {t.strides()}, [&](const int64_t* o) { v.push_back(convert<double>(p[o[0]])); });
  });
  return v;
}

TensorBase clone(const TensorBase& t) {
  TensorBase out = TensorBase::empty(t.shape(), t.dtype());
  Registry::global().find<OpId::copy>(Backend::reference, t.dtype())(t, out);
  return out;
}

// f32 results may differ from the double-precision reference by a few float ulp.
struct Tolerance {
  double rtol, atol;
};
Tolerance tolerance(DType dtype) {
  return dtype == DType::f32 ? Tolerance{1e-5, 1e-6} : dtype == DType::f64 ? Tolerance{1e-9, 1e-12} : Tolerance{0, 0};
}

void expect_close(const TensorBase& got, const TensorBase& want, Tolerance tol, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  std::vector<double> g = values(got), w = values(want);
  int reported = 0;
  for (size_t i = 0; i < g.size() && reported < 5; ++i) {
    bool both_nan = std::isnan(g[i]) && std::isnan(w[i]);
    if (both_nan || g[i] == w[i] || std::abs(g[i] - w[i]) <= tol.atol + tol.rtol * std::abs(w[i])) continue;
    ADD_FAILURE() << what << " element " << i << ": cpu " << g[i] << ", reference " << w[i];
    ++reported;
  }
}

template <OpId Op>
std::pair<typename KernelTraits<Op>::Fn, typename KernelTraits<Op>::Fn> kernels(DType dtype) {
  auto cpu = Registry::global().find<Op>(Backend::cpu, dtype);
  auto ref = Registry::global().find<Op>(Backend::reference, dtype);
  EXPECT_NE(cpu, nullptr) << KernelTraits<Op>::name << " " << name(dtype);
  return {cpu, ref};
}

const Shape kSmall = {37, 19};
const Shape kLarge = {300, 257};  // 77,100 elements: above kParallelGrain
const std::vector<Layout> kLayouts = {Layout::contiguous,    Layout::transposed,    Layout::sliced,
                                      Layout::broadcast_row, Layout::broadcast_col, Layout::scalar};
const std::vector<Layout> kLargeLayouts = {Layout::contiguous, Layout::transposed};

TEST(CpuLoops, UnaryMatchesReference) {
  ScopedThreads threads(2);
  Generator gen(1);
  for (DType dtype : {DType::f32, DType::f64}) {
    auto [cpu, ref] = kernels<OpId::unary>(dtype);
    for (int o = 0; o < static_cast<int>(UnaryOp::count); ++o) {
      auto op = static_cast<UnaryOp>(o);
      for (const Shape& shape : {kSmall, kLarge}) {
        for (Layout layout : shape == kSmall ? kLayouts : kLargeLayouts) {
          TensorBase x = make(shape, layout, dtype, gen, 3.0);
          TensorBase got = TensorBase::empty(shape, dtype), want = TensorBase::empty(shape, dtype);
          cpu(op, x, got);
          ref(op, x, want);
          expect_close(got, want, tolerance(dtype),
                       fmt::format("unary {} {} {} {}", o, name(dtype), to_string(shape), layout_name(layout)));
        }
        // A strided output: the transposed view of a fresh buffer.
        TensorBase x = make(shape, Layout::contiguous, dtype, gen, 3.0);
        TensorBase got = make(shape, Layout::transposed, dtype, gen);
        TensorBase want = TensorBase::empty(shape, dtype);
        cpu(op, x, got);
        ref(op, x, want);
        expect_close(got, want, tolerance(dtype), fmt::format("unary {} {} strided output", o, name(dtype)));
      }
    }
  }
}

TEST(CpuLoops, BinaryMatchesReference) {
  ScopedThreads threads(2);
  Generator gen(2);
  const std::vector<std::pair<Layout, Layout>> pairs = {
      {Layout::contiguous, Layout::contiguous},    {Layout::transposed, Layout::contiguous},
      {Layout::contiguous, Layout::broadcast_row}, {Layout::broadcast_col, Layout::contiguous},
      {Layout::scalar, Layout::contiguous},        {Layout::contiguous, Layout::scalar},
      {Layout::sliced, Layout::transposed},        {Layout::broadcast_row, Layout::broadcast_col}};
  const std::vector<std::pair<Layout, Layout>> large_pairs = {{Layout::contiguous, Layout::contiguous},
                                                              {Layout::transposed, Layout::broadcast_row}};
  for (DType dtype : {DType::f32, DType::f64, DType::i32, DType::i64}) {
    auto [cpu, ref] = kernels<OpId::binary>(dtype);
    for (int o = 0; o < static_cast<int>(BinaryOp::count); ++o) {
      auto op = static_cast<BinaryOp>(o);
      for (const Shape& shape : {kSmall, kLarge}) {
        // The threaded path is the same for every op and layout: a few large cases suffice.
        for (auto [la, lb] : shape == kSmall ? pairs : large_pairs) {
          TensorBase a = make(shape, la, dtype, gen, 2.0), b = make(shape, lb, dtype, gen, 2.0);
          TensorBase got = TensorBase::empty(shape, dtype), want = TensorBase::empty(shape, dtype);
          cpu(op, a, b, got);
          ref(op, a, b, want);
          expect_close(got, want, tolerance(dtype),
                       fmt::format("binary {} {} {} {} x {}", o, name(dtype), to_string(shape), layout_name(la),
                                   layout_name(lb)));
        }
      }
    }
  }
}

// Special inputs through the vectorised C-library functions: infinities, NaN, signed zeros,
// arguments that overflow or underflow, and pow with integral exponents of negative bases.
TEST(CpuLoops, SpecialValuesMatchReference) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> specials = {0.0,   -0.0,   inf, -inf, nan,  1e-30, -1e-30, 88.5, -88.5, 100.0, -100.0,
                                        700.0, -700.0, 5.5, -5.5, 12.0, -12.0, 1.0,    -1.0, 0.5,   -3.0,  2.0};
  for (DType dtype : {DType::f32, DType::f64}) {
    const auto n = static_cast<int64_t>(specials.size());
    // Every special against every other, in rows long enough to take the vector loops.
    TensorBase a = TensorBase::empty({n, n}, DType::f64), b = TensorBase::empty({n, n}, DType::f64);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        a.data_ptr<double>()[i * n + j] = specials[static_cast<size_t>(j)];
        b.data_ptr<double>()[i * n + j] = specials[static_cast<size_t>(i)];
      }
    }
    TensorBase x = TensorBase::empty({n, n}, dtype), y = TensorBase::empty({n, n}, dtype);
    Registry::global().find<OpId::copy>(Backend::reference, DType::f64)(a, x);
    Registry::global().find<OpId::copy>(Backend::reference, DType::f64)(b, y);
    auto [ucpu, uref] = kernels<OpId::unary>(dtype);
    for (int o = 0; o < static_cast<int>(UnaryOp::count); ++o) {
      TensorBase got = TensorBase::empty({n, n}, dtype), want = TensorBase::empty({n, n}, dtype);
      ucpu(static_cast<UnaryOp>(o), x, got);
      uref(static_cast<UnaryOp>(o), x, want);
      expect_close(got, want, tolerance(dtype), fmt::format("special unary {} {}", o, name(dtype)));
    }
    auto [bcpu, bref] = kernels<OpId::binary>(dtype);
    for (int o = 0; o < static_cast<int>(BinaryOp::count); ++o) {
      TensorBase got = TensorBase::empty({n, n}, dtype), want = TensorBase::empty({n, n}, dtype);
      bcpu(static_cast<BinaryOp>(o), x, y, got);
      bref(static_cast<BinaryOp>(o), x, y, want);
      expect_close(got, want, tolerance(dtype), fmt::format("special binary {} {}", o, name(dtype)));
    }
  }
}

// The autograd engine accumulates with binary(add, grad, g, grad): out is the same view as a.
TEST(CpuLoops, BinaryInPlaceOnFirstOperand) {
  ScopedThreads threads(2);
  Generator gen(3);
  auto [cpu, ref] = kernels<OpId::binary>(DType::f32);
  for (const Shape& shape : {kSmall, kLarge}) {
    for (Layout la : {Layout::contiguous, Layout::transposed, Layout::sliced}) {
      for (Layout lb : {Layout::contiguous, Layout::broadcast_row, Layout::scalar}) {
        TensorBase a = make(shape, la, DType::f32, gen), b = make(shape, lb, DType::f32, gen);
        TensorBase want = TensorBase::empty(shape, DType::f32);
        ref(BinaryOp::add, a, b, want);
        cpu(BinaryOp::add, a, b, a);
        expect_close(a, want, tolerance(DType::f32), "in-place add " + layout_name(la) + " += " + layout_name(lb));
      }
    }
  }
}

// Keep-shapes of out (1 on reduced axes) for a 3-D input, covering inner, outer, middle and mixed
// reduced axes, and none.
const std::vector<std::vector<int>> kReducedAxes3d = {{}, {0}, {1}, {2}, {0, 1}, {1, 2}, {0, 2}, {0, 1, 2}};

Shape keep_shape(const Shape& shape, const std::vector<int>& axes) {
  Shape keep = shape;
  for (int a : axes) keep[static_cast<size_t>(a)] = 1;
  return keep;
}

void check_reduce(const TensorBase& x, const Shape& keep, DType dtype, Tolerance tol, const std::string& what) {
  auto [cpu, ref] = kernels<OpId::reduce>(dtype);
  for (int o = 0; o < static_cast<int>(ReduceOp::count); ++o) {
    auto op = static_cast<ReduceOp>(o);
    TensorBase got = TensorBase::empty(keep, dtype), want = TensorBase::empty(keep, dtype);
    cpu(op, x, got);
    ref(op, x, want);
    // max and min pick an element: exact. An f32 sum accumulates blocks in float, erring by about
    // an ulp of the summands' magnitude (~1) per summand, which is absolute, not relative to a
    // result that cancels to near zero.
    const double summands = static_cast<double>(x.numel()) / static_cast<double>(std::max<int64_t>(numel(keep), 1));
    const Tolerance sum_tol{tol.rtol, tol.atol + (dtype == DType::f32 ? 1e-7 : 1e-15) * summands};
    expect_close(got, want, op == ReduceOp::sum ? sum_tol : Tolerance{0, 0},
                 fmt::format("reduce {} {} {} -> {}", o, what, to_string(x.shape()), to_string(keep)));
  }
}

TEST(CpuLoops, ReduceAxisPatterns) {
  Generator gen(4);
  const Shape shape = {6, 7, 45};
  for (DType dtype : {DType::f32, DType::f64}) {
    TensorBase contiguous = TensorBase::empty(shape, dtype);
    fill_random(contiguous, gen);
    // The same shape as a permuted view of a [45, 6, 7] buffer (no axis contiguous in order).
    TensorBase base = TensorBase::empty({45, 6, 7}, dtype);
    fill_random(base, gen);
    TensorBase permuted = base.as_strided(shape, {7, 1, 42}, 0);
    for (const auto& axes : kReducedAxes3d) {
      check_reduce(contiguous, keep_shape(shape, axes), dtype, tolerance(dtype), "contiguous");
      check_reduce(permuted, keep_shape(shape, axes), dtype, tolerance(dtype), "permuted");
    }
    for (Layout layout : kLayouts) {
      TensorBase x = make(kSmall, layout, dtype, gen);
      for (const Shape& keep : {Shape{1, 19}, Shape{37, 1}, Shape{1, 1}}) {
        check_reduce(x, keep, dtype, tolerance(dtype), layout_name(layout));
      }
    }
  }
}

// Large reductions take the threaded paths: many outputs, few outputs with split rows or
// columns, and a million-element sum whose f32 blocks must keep its precision.
TEST(CpuLoops, ReduceLargeThreaded) {
  ScopedThreads threads(2);
  Generator gen(5);
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{1, 1 << 20}, {1, 1}},    {{1 << 20, 1}, {1, 1}}, {{300, 4096}, {300, 1}}, {{4096, 300}, {1, 300}},
      {{64, 40000}, {1, 40000}}, {{3000, 3}, {1, 3}},    {{3, 100000}, {3, 1}},   {{2, 70000}, {1, 70000}}};
  for (DType dtype : {DType::f32, DType::f64}) {
    for (const auto& [shape, keep] : cases) {
      TensorBase x = TensorBase::empty(shape, dtype);
      fill_uniform(x, 0.5, 1.5, gen);  // no cancellation: the sum's relative error is the loop's
      check_reduce(x, keep, dtype, dtype == DType::f32 ? Tolerance{2e-6, 0} : tolerance(dtype), "large");
    }
  }
}

TEST(CpuLoops, ReduceSpecialValues) {
  auto [cpu, ref] = kernels<OpId::reduce>(DType::f32);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  TensorBase x = TensorBase::empty({4, 1000}, DType::f32);
  float* p = x.data_ptr<float>();
  for (int64_t i = 0; i < 4000; ++i) p[i] = static_cast<float>(i % 97) - 40.0f;
  for (int64_t i = 0; i < 1000; ++i) p[i] = -inf;  // row 0: all -inf
  p[1000 + 777] = nan;                             // row 1: one NaN in the middle
  p[2000] = nan;                                   // row 2: NaN first
  p[3999] = inf;                                   // row 3: +inf last
  for (const Shape& keep : {Shape{4, 1}, Shape{1, 1000}, Shape{1, 1}}) {
    for (auto op : {ReduceOp::sum, ReduceOp::max, ReduceOp::min}) {
      TensorBase got = TensorBase::empty(keep, DType::f32), want = TensorBase::empty(keep, DType::f32);
      cpu(op, x, got);
      ref(op, x, want);
      expect_close(got, want, {0, 0},
                   fmt::format("special values, reduce {} to {}", static_cast<int>(op), to_string(keep)));
    }
  }
  // Reducing an empty axis gives the identity.
  TensorBase empty = TensorBase::empty({0, 5}, DType::f32);
  for (auto op : {ReduceOp::sum, ReduceOp::max, ReduceOp::min}) {
    TensorBase got = TensorBase::empty({1, 5}, DType::f32), want = TensorBase::empty({1, 5}, DType::f32);
    cpu(op, empty, got);
    ref(op, empty, want);
    expect_close(got, want, {0, 0}, "empty axis");
  }
}

// Values rounded to a few integers so that ties are everywhere; argmax must pick the first.
void check_argmax(const TensorBase& x, int64_t axis, DType dtype, const std::string& what) {
  auto [cpu, ref] = kernels<OpId::argmax>(dtype);
  Shape keep = x.shape();
  keep[static_cast<size_t>(axis)] = 1;
  TensorBase got = TensorBase::empty(keep, DType::i64), want = TensorBase::empty(keep, DType::i64);
  cpu(x, axis, got);
  ref(x, axis, want);
  expect_close(got, want, {0, 0}, fmt::format("argmax {} {} axis {}", what, to_string(x.shape()), axis));
}

TensorBase tied(const Shape& shape, DType dtype, Generator& gen) {
  TensorBase t = TensorBase::empty(shape, DType::f64);
  fill_normal(t, 0.0, 1.5, gen);
  double* p = t.data_ptr<double>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = std::round(p[i]);
  TensorBase out = TensorBase::empty(shape, dtype);
  Registry::global().find<OpId::copy>(Backend::reference, DType::f64)(t, out);
  return out;
}

TEST(CpuLoops, ArgmaxFirstMaximum) {
  ScopedThreads threads(2);
  Generator gen(6);
  for (DType dtype : {DType::f32, DType::f64}) {
    for (const Shape& shape : {Shape{5, 6, 7}, Shape{40, 3, 1000}, Shape{1, 1, 70000}, Shape{70000, 1, 2}}) {
      TensorBase x = tied(shape, dtype, gen);
      for (int64_t axis = 0; axis < 3; ++axis) check_argmax(x, axis, dtype, "contiguous");
      TensorBase base = tied({shape[2], shape[0], shape[1]}, dtype, gen);
      TensorBase permuted = base.as_strided(shape, {shape[1], 1, shape[0] * shape[1]}, 0);
      for (int64_t axis = 0; axis < 3; ++axis) check_argmax(permuted, axis, dtype, "permuted");
    }
  }
  // NaN: skipped unless it comes first, where it wins.
  TensorBase x = TensorBase::empty({3, 8}, DType::f32);
  float* p = x.data_ptr<float>();
  for (int64_t i = 0; i < 24; ++i) p[i] = static_cast<float>(i % 5);
  p[2] = std::numeric_limits<float>::quiet_NaN();
  p[8] = std::numeric_limits<float>::quiet_NaN();
  p[16 + 7] = std::numeric_limits<float>::infinity();
  for (int64_t axis = 0; axis < 2; ++axis) check_argmax(x, axis, DType::f32, "with NaN");
}

TEST(CpuLoops, CopyConvertsBetweenDTypes) {
  ScopedThreads threads(2);
  Generator gen(7);
  const std::vector<DType> all = {DType::f32, DType::f64, DType::bf16, DType::f16,
                                  DType::i8,  DType::u8,  DType::i32,  DType::i64};
  for (DType src_type : all) {
    auto [cpu, ref] = kernels<OpId::copy>(src_type);
    for (DType dst_type : all) {
      // Large (threaded) copies for the conversions that matter most: to and from f32.
      const bool with_f32 = src_type == DType::f32 || dst_type == DType::f32;
      for (const Shape& shape : with_f32 ? std::vector<Shape>{kSmall, kLarge} : std::vector<Shape>{kSmall}) {
        for (Layout layout : shape == kSmall ? kLayouts : kLargeLayouts) {
          TensorBase src = make(shape, layout, src_type, gen, -100.0);
          TensorBase got = TensorBase::empty(shape, dst_type), want = TensorBase::empty(shape, dst_type);
          cpu(src, got);
          ref(src, want);
          expect_close(got, want, {0, 0},
                       fmt::format("copy {} -> {} {} {}", name(src_type), name(dst_type), to_string(shape),
                                   layout_name(layout)));
        }
        // Into a strided destination (a slice of a wider buffer).
        TensorBase src = make(shape, Layout::contiguous, src_type, gen, -100.0);
        TensorBase got = make(shape, Layout::sliced, dst_type, gen), want = TensorBase::empty(shape, dst_type);
        cpu(src, got);
        ref(src, want);
        expect_close(got, want, {0, 0}, fmt::format("copy {} -> strided {}", name(src_type), name(dst_type)));
      }
    }
  }
}

TEST(CpuLoops, FillContiguousAndStrided) {
  ScopedThreads threads(2);
  Generator gen(8);
  for (DType dtype : {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i8, DType::u8, DType::i32, DType::i64}) {
    auto [cpu, ref] = kernels<OpId::fill>(dtype);
    for (const Shape& shape : {kSmall, kLarge}) {
      for (Layout layout : {Layout::contiguous, Layout::transposed, Layout::sliced}) {
        for (Scalar value : {Scalar(2.75), Scalar(-7)}) {
          TensorBase got = make(shape, layout, dtype, gen), want = clone(got);
          cpu(got, value);
          ref(want, value);
          expect_close(got, want, {0, 0}, fmt::format("fill {} {}", name(dtype), layout_name(layout)));
        }
      }
    }
  }
}

}  // namespace
}  // namespace dendrite::kernels
