// Batched matmul on oneDNN's matmul primitive. Operands are described to oneDNN with their own
// strides, so transposed views cost no copy; batch axes that are contiguous in all three operands
// merge into one, a stride-0 (broadcast) batch axis becomes a size-1 oneDNN axis (oneDNN
// broadcasts those itself), and the batch axes left go into the primitive too (it takes up to 12
// dimensions) when oneDNN has a real kernel for that layout; otherwise all but the innermost are
// looped over with the same primitive. Layouts oneDNN serves only with its slow reference loop are
// copied to dense first.
//
// Under MathPrecision::bf16 (kernels/precision.h) 2-D products of at least 16 in every dimension
// round both operands to bfloat16 on the way in (one cached reorder each, the weights straight
// into the layout the bf16 primitive wants) and accumulate in f32.
//
// Products of very few rows (batch-1 inference) go to our own dot-product loops (row_products.h)
// when b is a row-major weight's transposed view, and to oneDNN's sgemm otherwise: the matmul
// primitive copies the whole of b into its blocked layout on every call, which costs more than the
// product itself when a has one row (784x512 weights: 46 us per call against 21 us for sgemm and
// 17 us for the dot products, one thread; docs/performance.md, W5).
//
// When the caller declared b constant (kernels/constant_operand.h: a recurrent layer's W_hh over
// the time steps), b is packed into the primitive's own layout once per declaration and every
// call reads the packed copy; under bf16 the bf16 copy of b is likewise made once.
#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dendrite/core/strided_loop.h"
#include "dendrite/kernels/constant_operand.h"
#include "dendrite/kernels/cpu/cpu.h"
#include "dendrite/kernels/cpu/onednn_cache.h"
#include "dendrite/kernels/cpu/onednn_engine.h"
#include "dendrite/kernels/cpu/row_products.h"
#include "dendrite/kernels/precision.h"

namespace dendrite::kernels::cpu {

namespace {

using dnnl::memory;

constexpr int64_t kMatmulKey = 1;
constexpr int64_t kMatmulBf16Key = 2;
constexpr int64_t kMatmulPackedKey = 3;

// One batch axis with its stride in a, b and out.
struct BatchAxis {
  int64_t size;
  int64_t a, b, out;
};

// The batch axes of out (size-1 axes dropped), merging neighbours that are contiguous with each
// other in all three operands.
std::vector<BatchAxis> merged_batch_axes(const TensorBase& a, const TensorBase& b, const TensorBase& out) {
  std::vector<BatchAxis> axes;
  for (int64_t i = 0; i + 2 < out.dim(); ++i) {
    const auto k = static_cast<size_t>(i);
    if (out.shape()[k] == 1) continue;
    BatchAxis axis{out.shape()[k], a.strides()[k], b.strides()[k], out.strides()[k]};
    if (!axes.empty()) {
      BatchAxis& prev = axes.back();
      if (prev.a == axis.a * axis.size && prev.b == axis.b * axis.size && prev.out == axis.out * axis.size) {
        prev = {prev.size * axis.size, axis.a, axis.b, axis.out};
        continue;
      }
    }
    axes.push_back(axis);
  }
  return axes;
}

// The strides of a rows x cols operand with those of size-1 axes (which address nothing) made
// canonical, so that oneDNN recognises a plain layout: a column is row-major with leading
// dimension sr, a row is column-major with leading dimension sc unless it is dense.
std::array<int64_t, 2> canonical_strides(int64_t rows, int64_t cols, int64_t sr, int64_t sc) {
  if (cols == 1) sc = 1;
  if (rows == 1) sr = sc == 1 ? cols : 1;
  return {sr, sc};
}

// Dims and strides of one operand as the primitive sees it: [rows, cols], preceded by the batch
// axes that go into the primitive (size 1 where the operand broadcasts along one).
struct OperandLayout {
  memory::dims dims, strides;
};

OperandLayout layout(int64_t rows, int64_t cols, int64_t sr, int64_t sc, const std::vector<BatchAxis>& batch,
                     int64_t BatchAxis::*stride) {
  auto [r, c] = canonical_strides(rows, cols, sr, sc);
  OperandLayout l;
  for (const BatchAxis& axis : batch) {
    const int64_t s = axis.*stride;
    l.dims.push_back(s == 0 ? 1 : axis.size);
    l.strides.push_back(s == 0 ? std::max(r * rows, c * cols) : s);
  }
  l.dims.insert(l.dims.end(), {rows, cols});
  l.strides.insert(l.strides.end(), {r, c});
  return l;
}

// bias[N] as oneDNN wants it for an output of `out_dims`: a [1, .., 1, N] operand that broadcasts.
memory::desc bias_desc(const memory::dims& out_dims) {
  memory::dims dims(out_dims.size(), 1);
  dims.back() = out_dims.back();
  return onednn::f32_dense_desc(dims);
}

// oneDNN's matmul for these operands, with the bias when `bias` is not the empty descriptor;
// throws dnnl::error when oneDNN refuses them.
dnnl::matmul::primitive_desc matmul_pd(const memory::desc& a, const memory::desc& b, const memory::desc& bias,
                                       const memory::desc& out) {
  const dnnl::matmul::desc desc = bias.is_zero() ? dnnl::matmul::desc(a, b, out) : dnnl::matmul::desc(a, b, bias, out);
  return {desc, onednn::engine()};
}

bool reference_loop(const dnnl::matmul::primitive_desc& pd) {
  return std::string(pd.impl_info_str()).starts_with("ref");
}

struct MatmulPlan {
  dnnl::matmul primitive;
  memory::desc a, b, bias, out;
  bool reference_impl = false;  // oneDNN found nothing better than its reference loop
  std::string error;            // why oneDNN refused the layout, when it did
};

MatmulPlan make_plan(const OperandLayout& a, const OperandLayout& b, const OperandLayout& out, bool has_bias) {
  MatmulPlan plan;
  try {
    plan.a = onednn::f32_desc(a.dims, a.strides);
    plan.b = onednn::f32_desc(b.dims, b.strides);
    plan.out = onednn::f32_desc(out.dims, out.strides);
    if (has_bias) plan.bias = bias_desc(out.dims);
    const dnnl::matmul::primitive_desc pd = matmul_pd(plan.a, plan.b, plan.bias, plan.out);
    plan.reference_impl = reference_loop(pd);
    plan.primitive = dnnl::matmul(pd);
  } catch (const dnnl::error& e) {
    plan.error = e.what();
  }
  return plan;
}

onednn::PrimitiveCache<MatmulPlan>& plan_cache() {
  static onednn::PrimitiveCache<MatmulPlan> cache;
  return cache;
}

// The BLAS description of one operand: transposed or not, and its leading dimension; nullopt when
// neither axis has unit stride.
struct BlasOperand {
  char trans;
  int64_t ld;
};
std::optional<BlasOperand> blas_operand(int64_t rows, int64_t cols, int64_t sr, int64_t sc) {
  auto [r, c] = canonical_strides(rows, cols, sr, sc);
  if (c == 1 && r >= std::max<int64_t>(cols, 1)) return BlasOperand{'N', r};
  if (r == 1 && c >= std::max<int64_t>(rows, 1)) return BlasOperand{'T', c};
  return std::nullopt;
}

// Rows of a below which sgemm beats the matmul primitive (measured for 1-2 threads at K, N of
// 512-1600; at 8 rows the two are even).
constexpr int64_t kSgemmMaxRows = 4;

// out = a @ b (+ bias) for 2-D operands through dnnl_sgemm; false (nothing written) when the
// product does not qualify.
bool run_small_sgemm(const TensorBase& a, const TensorBase& b, const TensorBase& bias, const TensorBase& out) {
  if (out.dim() != 2) return false;
  const int64_t M = out.shape()[0], N = out.shape()[1], K = a.shape()[1];
  if (M > kSgemmMaxRows || !out.is_contiguous()) return false;
  const auto oa = blas_operand(M, K, a.stride(0), a.stride(1));
  const auto ob = blas_operand(K, N, b.stride(0), b.stride(1));
  if (!oa || !ob) return false;
  auto* po = static_cast<float*>(out.raw_data());
  float beta = 0.0f;
  if (bias.defined()) {
    const auto* pbias = static_cast<const float*>(bias.raw_data());
    for (int64_t m = 0; m < M; ++m) std::copy(pbias, pbias + N, po + m * N);
    beta = 1.0f;
  }
  const dnnl_status_t status =
      dnnl_sgemm(oa->trans, ob->trans, M, N, K, 1.0f, static_cast<const float*>(a.raw_data()), oa->ld,
                 static_cast<const float*>(b.raw_data()), ob->ld, beta, po, N);
  if (status != dnnl_success) fail("matmul: oneDNN sgemm failed on {} x {} (status {})", describe(a), describe(b),
                                   static_cast<int>(status));
  return true;
}

// Runs the product through oneDNN with the batch axes `inner` inside the primitive and a loop over
// `outer`; returns false (having written nothing) when oneDNN refuses the layout or would fall back
// to its reference loop and allow_reference is false, so the caller can try another way.
bool run_matmul_with(const TensorBase& a, const TensorBase& b, const TensorBase& bias, const TensorBase& out,
                     const std::vector<BatchAxis>& inner, const std::vector<BatchAxis>& outer, bool allow_reference) {
  const int64_t M = out.shape()[static_cast<size_t>(out.dim() - 2)], N = out.shape().back(), K = a.shape().back();
  const OperandLayout la = layout(M, K, a.stride(-2), a.stride(-1), inner, &BatchAxis::a);
  const OperandLayout lb = layout(K, N, b.stride(-2), b.stride(-1), inner, &BatchAxis::b);
  const OperandLayout lo = layout(M, N, N, 1, inner, &BatchAxis::out);

  onednn::PrimitiveKey key(kMatmulKey);
  key.add(la.dims).add(la.strides).add(lb.dims).add(lb.strides).add(lo.dims).add(lo.strides).add(bias.defined());
  auto plan = plan_cache().get(key, [&] { return make_plan(la, lb, lo, bias.defined()); });
  if (!plan->error.empty()) {
    if (!allow_reference) return false;
    fail("matmul: oneDNN refused {} x {}: {}", describe(a), describe(b), plan->error);
  }
  if (plan->reference_impl && !allow_reference) return false;

  const auto* pa = static_cast<const float*>(a.raw_data());
  const auto* pb = static_cast<const float*>(b.raw_data());
  auto* po = static_cast<float*>(out.raw_data());
  dnnl::memory ma = onednn::wrap(plan->a, pa), mb = onednn::wrap(plan->b, pb), mo = onednn::wrap(plan->out, po);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mo}};
  if (bias.defined()) args.emplace(DNNL_ARG_BIAS, onednn::wrap(plan->bias, static_cast<const float*>(bias.raw_data())));

  Shape outer_shape;
  Strides sa, sb, so;
  for (const BatchAxis& axis : outer) {
    outer_shape.push_back(axis.size);
    sa.push_back(axis.a);
    sb.push_back(axis.b);
    so.push_back(axis.out);
  }
  dnnl::stream& stream = onednn::stream();
  for_each_offset(outer_shape, {sa, sb, so}, [&](const int64_t* offsets) {
    ma.set_data_handle(const_cast<float*>(pa + offsets[0]));
    mb.set_data_handle(const_cast<float*>(pb + offsets[1]));
    mo.set_data_handle(po + offsets[2]);
    std::lock_guard run_lock(onednn::execution_lock(plan.get()));
    plan->primitive.execute(stream, args);
  });
  stream.wait();
  return true;
}

// Every batch axis inside one primitive call when oneDNN serves that layout with a real kernel: a
// Transformer's per-head products ([B, heads, L, L] from split-heads views, whose batch axes do not
// merge) were 128 calls of a few microseconds each per product, for 4 x 10 x 10 x 32 of work.
// Otherwise the innermost batch axis goes into the primitive and the others are looped over.
bool run_matmul(const TensorBase& a, const TensorBase& b, const TensorBase& bias, const TensorBase& out,
                bool allow_reference) {
  std::vector<BatchAxis> inner = merged_batch_axes(a, b, out);
  if (inner.size() > 1 && run_matmul_with(a, b, bias, out, inner, {}, false)) return true;
  std::vector<BatchAxis> outer;
  if (!inner.empty()) {
    outer.assign(inner.begin(), inner.end() - 1);
    inner.erase(inner.begin(), inner.end() - 1);
  }
  return run_matmul_with(a, b, bias, out, inner, outer, allow_reference);
}

// ---- 2-D products with their own plans (a packed constant b, bf16) ----

// The layouts of a 2-D product out[M, N] = a[M, K] @ b[K, N], out contiguous.
struct Layouts2d {
  OperandLayout a, b, out;
  // Everything that shapes a plan of `kind` for these operands.
  onednn::PrimitiveKey key(int64_t kind, bool has_bias) const {
    onednn::PrimitiveKey k(kind);
    k.add(a.dims).add(a.strides).add(b.dims).add(b.strides).add(has_bias);
    return k;
  }
};

Layouts2d layouts_2d(const TensorBase& a, const TensorBase& b, const TensorBase& out) {
  const int64_t M = out.shape()[0], N = out.shape()[1], K = a.shape()[1];
  return {layout(M, K, a.stride(0), a.stride(1), {}, &BatchAxis::a),
          layout(K, N, b.stride(0), b.stride(1), {}, &BatchAxis::b), layout(M, N, N, 1, {}, &BatchAxis::out)};
}


struct PackedPlan {
  dnnl::matmul primitive;
  dnnl::reorder pack;  // b as the caller lays it out -> the layout the primitive chose
  memory::desc a, b, packed, bias, out;
  std::string error;  // why no plan exists (oneDNN refused, or only its reference loop)
};

PackedPlan make_packed_plan(const OperandLayout& a, const OperandLayout& b, const OperandLayout& out, bool has_bias) {
  PackedPlan plan;
  try {
    plan.a = onednn::f32_desc(a.dims, a.strides);
    plan.b = onednn::f32_desc(b.dims, b.strides);
    plan.out = onednn::f32_desc(out.dims, out.strides);
    const memory::desc any(b.dims, memory::data_type::f32, memory::format_tag::any);
    if (has_bias) plan.bias = bias_desc(out.dims);
    const dnnl::matmul::primitive_desc pd = matmul_pd(plan.a, any, plan.bias, plan.out);
    if (reference_loop(pd)) {
      plan.error = "only oneDNN's reference loop";
      return plan;
    }
    plan.packed = pd.weights_desc();
    plan.pack = dnnl::reorder(dnnl::reorder::primitive_desc(onednn::engine(), plan.b, onednn::engine(), plan.packed));
    plan.primitive = dnnl::matmul(pd);
  } catch (const dnnl::error& e) {
    plan.error = e.what();
  }
  return plan;
}

onednn::PrimitiveCache<PackedPlan>& packed_plan_cache() {
  static onednn::PrimitiveCache<PackedPlan> cache;
  return cache;
}

// out = a @ b (+ bias) for 2-D operands, b packed once into `conversions`; false (nothing
// written) when the product does not qualify, so the caller runs it unpacked.
bool run_packed_matmul(const TensorBase& a, const TensorBase& b, const TensorBase& bias, const TensorBase& out,
                       ConversionCache& conversions) {
  if (out.dim() != 2 || !out.is_contiguous()) return false;
  const Layouts2d l = layouts_2d(a, b, out);
  const onednn::PrimitiveKey key = l.key(kMatmulPackedKey, bias.defined());
  auto plan = packed_plan_cache().get(key, [&] { return make_packed_plan(l.a, l.b, l.out, bias.defined()); });
  if (!plan->error.empty()) return false;

  dnnl::stream& stream = onednn::stream();
  std::lock_guard run_lock(onednn::execution_lock(plan.get()));
  std::shared_ptr<const TensorBase> packed = conversions.find(b, key.bytes());
  if (!packed) {
    TensorBase buffer = TensorBase::empty({static_cast<int64_t>(plan->packed.get_size() / sizeof(float))});
    dnnl::memory from = onednn::wrap(plan->b, static_cast<const float*>(b.raw_data()));
    dnnl::memory to(plan->packed, onednn::engine(), buffer.raw_data());
    plan->pack.execute(stream, from, to);
    packed = conversions.insert(b, key.bytes(), buffer);
  }
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, onednn::wrap(plan->a, static_cast<const float*>(a.raw_data()))},
      {DNNL_ARG_WEIGHTS, dnnl::memory(plan->packed, onednn::engine(), packed->raw_data())},
      {DNNL_ARG_DST, onednn::wrap(plan->out, static_cast<float*>(out.raw_data()))}};
  if (bias.defined()) args.emplace(DNNL_ARG_BIAS, onednn::wrap(plan->bias, static_cast<const float*>(bias.raw_data())));
  plan->primitive.execute(stream, args);
  stream.wait();
  return true;
}

// ---- bf16 products ----

// Below this in any dimension the conversions cost more than the faster product saves.
constexpr int64_t kBf16MinDim = 16;

struct Bf16Plan {
  dnnl::matmul primitive;
  dnnl::reorder to_a, to_b;
  memory::desc a, b, a16, b16, bias, out;
  std::string error;  // why no bf16 plan exists (oneDNN refused, or only its reference loop)
};

Bf16Plan make_bf16_plan(const OperandLayout& a, const OperandLayout& b, const OperandLayout& out, bool has_bias) {
  Bf16Plan plan;
  try {
    plan.a = onednn::f32_desc(a.dims, a.strides);
    plan.b = onednn::f32_desc(b.dims, b.strides);
    plan.out = onednn::f32_desc(out.dims, out.strides);
    const memory::desc a16(a.dims, memory::data_type::bf16, memory::format_tag::ab);
    const memory::desc b16(b.dims, memory::data_type::bf16, memory::format_tag::any);
    if (has_bias) plan.bias = bias_desc(out.dims);
    const dnnl::matmul::primitive_desc pd = matmul_pd(a16, b16, plan.bias, plan.out);
    if (reference_loop(pd)) {
      plan.error = "only oneDNN's reference loop";
      return plan;
    }
    plan.a16 = pd.src_desc();
    plan.b16 = pd.weights_desc();
    plan.to_a = dnnl::reorder(dnnl::reorder::primitive_desc(onednn::engine(), plan.a, onednn::engine(), plan.a16));
    plan.to_b = dnnl::reorder(dnnl::reorder::primitive_desc(onednn::engine(), plan.b, onednn::engine(), plan.b16));
    plan.primitive = dnnl::matmul(pd);
  } catch (const dnnl::error& e) {
    plan.error = e.what();
  }
  return plan;
}

onednn::PrimitiveCache<Bf16Plan>& bf16_plan_cache() {
  static onednn::PrimitiveCache<Bf16Plan> cache;
  return cache;
}

// A bf16 buffer of `desc`'s size from the caching allocator.
TensorBase bf16_scratch(const memory::desc& desc) {
  return TensorBase::empty({static_cast<int64_t>(desc.get_size() / 2)}, DType::bf16);
}

// out = a @ b (+ bias) with bf16 operands; false (nothing written) when the product does not
// qualify or this CPU has no bf16 kernel, so the caller runs it in f32.
bool run_bf16_matmul(const TensorBase& a, const TensorBase& b, const TensorBase& bias, const TensorBase& out) {
  if (out.dim() != 2 || !out.is_contiguous()) return false;
  // With b constant its conversion is paid once, so a few rows of a qualify too (batch-1 inference
  // of frozen weights reads half the bytes); otherwise every dimension must be large.
  ConversionCache* conversions = constant_operand_cache(b);
  const int64_t min_rows = conversions ? 1 : kBf16MinDim;
  if (out.size(0) < min_rows || std::min(out.size(1), a.size(1)) < kBf16MinDim) return false;
  const Layouts2d l = layouts_2d(a, b, out);
  const onednn::PrimitiveKey key = l.key(kMatmulBf16Key, bias.defined());
  auto plan = bf16_plan_cache().get(key, [&] { return make_bf16_plan(l.a, l.b, l.out, bias.defined()); });
  if (!plan->error.empty()) return false;

  // A b declared constant is converted once per declaration.
  const std::shared_ptr<const TensorBase> converted = conversions ? conversions->find(b, key.bytes()) : nullptr;
  TensorBase a16 = bf16_scratch(plan->a16), b16 = converted ? *converted : bf16_scratch(plan->b16);
  dnnl::memory ma = onednn::wrap(plan->a, static_cast<const float*>(a.raw_data()));
  dnnl::memory mb = onednn::wrap(plan->b, static_cast<const float*>(b.raw_data()));
  dnnl::memory ma16(plan->a16, onednn::engine(), a16.raw_data()), mb16(plan->b16, onednn::engine(), b16.raw_data());
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, ma16},
                                             {DNNL_ARG_WEIGHTS, mb16},
                                             {DNNL_ARG_DST, onednn::wrap(plan->out, static_cast<float*>(out.raw_data()))}};
  if (bias.defined()) args.emplace(DNNL_ARG_BIAS, onednn::wrap(plan->bias, static_cast<const float*>(bias.raw_data())));
  dnnl::stream& stream = onednn::stream();
  std::lock_guard run_lock(onednn::execution_lock(plan.get()));
  plan->to_a.execute(stream, ma, ma16);
  if (!converted) plan->to_b.execute(stream, mb, mb16);
  plan->primitive.execute(stream, args);
  stream.wait();
  if (conversions && !converted) conversions->insert(b, key.bytes(), b16);
  return true;
}

// An empty inner dimension: the product is the bias, or zero.
void fill_with_bias(const TensorBase& bias, const TensorBase& out) {
  const int64_t N = out.shape().back(), rows = out.numel() / N;
  auto* po = static_cast<float*>(out.raw_data());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t n = 0; n < N; ++n) {
      po[r * N + n] = bias.defined() ? static_cast<const float*>(bias.raw_data())[n * bias.stride(0)] : 0.0f;
    }
  }
}

void matmul(const TensorBase& a, const TensorBase& b, const TensorBase& bias, const TensorBase& out) {
  onednn::guarded("matmul", [&] {
    if (out.numel() == 0) return;
    if (a.shape().back() == 0) return fill_with_bias(bias, out);
    const TensorBase dense_bias = bias.defined() ? onednn::dense(bias) : bias;
    const bool bf16 = math_precision() == MathPrecision::bf16;
    ConversionCache* conversions = constant_operand_cache(b);
    // Under bf16, frozen weights go to the bf16 primitive even for one row (half the bytes to read);
    // other products try it after sgemm has taken the few-row ones.
    if (bf16 && conversions && run_bf16_matmul(a, b, dense_bias, out)) return;
    if (run_row_products(a, b, dense_bias, out)) return;
    if (run_small_sgemm(a, b, dense_bias, out)) return;
    if (bf16 && !conversions && run_bf16_matmul(a, b, dense_bias, out)) return;
    if (conversions && run_packed_matmul(a, b, dense_bias, out, *conversions)) return;
    const bool dense_operands = a.is_contiguous() && b.is_contiguous();
    if (run_matmul(a, b, dense_bias, out, dense_operands)) return;
    run_matmul(onednn::dense(a), onednn::dense(b), dense_bias, out, true);
  });
}

}  // namespace

void register_matmul(Registry& registry) { registry.add<OpId::matmul>(Backend::cpu, DType::f32, matmul); }

}  // namespace dendrite::kernels::cpu
