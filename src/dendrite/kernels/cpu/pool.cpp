// 2-D max and average pooling. Forward passes and the average backward run on oneDNN's pooling
// primitives over dense NCHW, except the common 2x2, stride-2 max pool, a vectorised loop of our
// own: on plain NCHW oneDNN's pooling is a scalar-ish kernel (5.1 us for 32x26x26 -> 13x13, 9% of
// a W2 step), while each output row is one pass of element-wise maxima over two input rows. The
// max backward is a loop of our own too: oneDNN needs the workspace
// of a training-mode forward (so the backward would have to run the forward again), and the
// contract fixes that the gradient goes to the FIRST maximum of each window in row-major order,
// which one scan of the window gives directly, whatever layout oneDNN would pick.
//
// Channels-last tensors (core/memory_format.h) keep their format: the 2x2 max pool has an nhwc
// loop of its own (one pass of element-wise maxima over the C values of four pixels), and the
// oneDNN primitives are told nhwc.
//
// Right/bottom padding is explicit in oneDNN: whatever makes the output size come out (PyTorch's
// floor mode), which may be negative. Max pooling never picks a padded position (PyTorch pads
// with -inf); average pooling's divisor is kh*kw with count_include_pad (in floor mode no window
// reaches past the padding, so that equals PyTorch's clipped count), else the in-bounds count.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <unordered_map>
#include <vector>

#include "dendrite/core/memory_format.h"
#include "dendrite/core/threading.h"
#include "dendrite/kernels/cpu/cpu.h"
#include "dendrite/kernels/cpu/loops_libmvec.h"
#include "dendrite/kernels/cpu/onednn_cache.h"
#include "dendrite/kernels/cpu/onednn_engine.h"

namespace dendrite::kernels::cpu {

namespace {

using dnnl::memory;

enum PoolKey : int64_t { kForward = 20, kBackward = 21 };

struct PoolGeometry {
  memory::desc src, dst;
  memory::dims strides, kernel, padding_l, padding_r;
  dnnl::algorithm algorithm;
};

using onednn::check_activation_output;
using onednn::is_nhwc;
memory::desc activation_desc(const TensorBase& t) { return onednn::activation_desc(t.shape(), is_nhwc(t)); }

// x: [N, C, H, W], y: [N, C, Ho, Wo], each dense NCHW or channels-last.
PoolGeometry geometry(const TensorBase& x, const TensorBase& y, const Pool2dParams& p) {
  PoolGeometry g;
  g.src = activation_desc(x);
  g.dst = activation_desc(y);
  for (size_t i = 0; i < 2; ++i) {
    g.strides.push_back(p.stride[i]);
    g.kernel.push_back(p.kernel[i]);
    g.padding_l.push_back(p.padding[i]);
    g.padding_r.push_back((y.shape()[2 + i] - 1) * p.stride[i] + p.kernel[i] - x.shape()[2 + i] - p.padding[i]);
  }
  g.algorithm = p.kind == PoolKind::max ? dnnl::algorithm::pooling_max
                : p.count_include_pad   ? dnnl::algorithm::pooling_avg_include_padding
                                        : dnnl::algorithm::pooling_avg_exclude_padding;
  return g;
}

onednn::PrimitiveKey pool_key(PoolKey kind, const TensorBase& x, const TensorBase& y, const Pool2dParams& p) {
  onednn::PrimitiveKey key(kind);
  key.add(x.shape()).add(y.shape()).add(is_nhwc(x)).add(is_nhwc(y)).add(p.kernel).add(p.stride).add(p.padding);
  key.add(static_cast<int64_t>(p.kind)).add(p.count_include_pad);
  return key;
}

dnnl::pooling_forward::primitive_desc forward_pd(const PoolGeometry& g, dnnl::prop_kind prop) {
  dnnl::pooling_forward::desc desc(prop, g.algorithm, g.src, g.dst, g.strides, g.kernel, g.padding_l, g.padding_r);
  return {desc, onednn::engine()};
}

struct PoolPlan {
  PoolGeometry geometry;
  dnnl::primitive primitive;
};

onednn::PrimitiveCache<PoolPlan>& plan_cache() {
  static onednn::PrimitiveCache<PoolPlan> cache;
  return cache;
}

const float* data(const TensorBase& t) { return static_cast<const float*>(t.raw_data()); }

// The window of a 2x2, stride-2, unpadded pool lies inside the input, whose rows are contiguous.
bool is_2x2(const Pool2dParams& p, const TensorBase& x, const Shape& y) {
  return p.kernel[0] == 2 && p.kernel[1] == 2 && p.stride[0] == 2 && p.stride[1] == 2 && p.padding[0] == 0 &&
         p.padding[1] == 0 && x.strides()[3] == 1 && 2 * y[2] <= x.shape()[2] && 2 * y[3] <= x.shape()[3];
}

// The same window geometry over channels-last x (y: the output's shape).
bool is_2x2_nhwc(const Pool2dParams& p, const TensorBase& x, const Shape& y) {
  return p.kernel[0] == 2 && p.kernel[1] == 2 && p.stride[0] == 2 && p.stride[1] == 2 && p.padding[0] == 0 &&
         p.padding[1] == 0 && memory_format_of(x) == MemoryFormat::channels_last && 2 * y[2] <= x.shape()[2] &&
         2 * y[3] <= x.shape()[3];
}

// One output pixel of the 2x2 max over channels-last x: the C maxima of four input pixels, in the
// reference's order from -inf (NaN handling as in max_row_2x2 below).
DENDRITE_VECTOR_CLONES void max_pixel_2x2(const float* a, const float* b, const float* c, const float* d, float* out,
                                          int64_t C) {
  for (int64_t k = 0; k < C; ++k) {
    float m = -std::numeric_limits<float>::infinity();
    m = std::max(m, a[k]);
    m = std::max(m, b[k]);
    m = std::max(m, c[k]);
    m = std::max(m, d[k]);
    out[k] = m;
  }
}

// y = the 2x2, stride-2 max pool of x, both channels-last.
void max_pool_forward_2x2_nhwc(const TensorBase& x, const TensorBase& y) {
  const int64_t C = x.shape()[1], W = x.shape()[3], Ho = y.shape()[2], Wo = y.shape()[3];
  const int64_t sx0 = x.strides()[0], sy0 = y.strides()[0];
  const float* px = data(x);
  auto* py = static_cast<float*>(y.raw_data());
  const int64_t rows = y.shape()[0] * Ho;
  parallel_for(0, rows, std::max<int64_t>(kParallelGrain / std::max<int64_t>(4 * Wo * C, 1), 1),
               [=](int64_t lo, int64_t hi) {
                 for (int64_t row = lo; row < hi; ++row) {
                   const int64_t n = row / Ho, ho = row % Ho;
                   const float* r0 = px + n * sx0 + 2 * ho * W * C;
                   const float* r1 = r0 + W * C;
                   float* out = py + n * sy0 + ho * Wo * C;
                   for (int64_t wo = 0; wo < Wo; ++wo) {
                     const int64_t at = 2 * wo * C;
                     max_pixel_2x2(r0 + at, r0 + at + C, r1 + at, r1 + at + C, out + wo * C, C);
                   }
                 }
               });
}

// One output row of the 2x2 max: the maximum of columns 2wo and 2wo + 1 of rows r0 and r1, taken
// in the reference's order from -inf (a NaN is skipped as the reference skips it in the forward;
// NaN in max pooling is not part of the contract: the backward paths differ on it, PyTorch
// propagates it).
DENDRITE_VECTOR_CLONES void max_row_2x2(const float* r0, const float* r1, float* out, int64_t Wo) {
  for (int64_t wo = 0; wo < Wo; ++wo) {
    float m = -std::numeric_limits<float>::infinity();
    m = std::max(m, r0[2 * wo]);
    m = std::max(m, r0[2 * wo + 1]);
    m = std::max(m, r1[2 * wo]);
    m = std::max(m, r1[2 * wo + 1]);
    out[wo] = m;
  }
}

// y (dense) = the 2x2, stride-2 max pool of x (rows contiguous, any other strides).
void max_pool_forward_2x2(const TensorBase& x, const TensorBase& y) {
  const int64_t C = x.shape()[1], Ho = y.shape()[2], Wo = y.shape()[3];
  const int64_t sx0 = x.strides()[0], sx1 = x.strides()[1], sxh = x.strides()[2];
  const float* px = data(x);
  auto* py = static_cast<float*>(y.raw_data());
  const int64_t planes = x.shape()[0] * C;
  const int64_t grain = std::max<int64_t>(kParallelGrain / std::max<int64_t>(4 * Ho * Wo, 1), 1);
  parallel_for(0, planes, grain, [=](int64_t lo, int64_t hi) {
    for (int64_t plane = lo; plane < hi; ++plane) {
      const float* xp = px + (plane / C) * sx0 + (plane % C) * sx1;
      for (int64_t ho = 0; ho < Ho; ++ho)
        max_row_2x2(xp + 2 * ho * sxh, xp + (2 * ho + 1) * sxh, py + (plane * Ho + ho) * Wo, Wo);
    }
  });
}

void pool2d_forward(const TensorBase& x, const Pool2dParams& p, const TensorBase& y) {
  onednn::guarded("pool2d_forward", [&] {
    if (y.numel() == 0) return;
    if (p.kind == PoolKind::max && is_nhwc(y) && is_2x2_nhwc(p, x, y.shape())) return max_pool_forward_2x2_nhwc(x, y);
    if (p.kind == PoolKind::max && y.is_contiguous() && is_2x2(p, x, y.shape())) return max_pool_forward_2x2(x, y);
    check_activation_output("pool2d_forward", y);
    const TensorBase xd = onednn::activation_as(x, is_nhwc(y));
    auto plan = plan_cache().get(pool_key(kForward, xd, y, p), [&] {
      PoolGeometry g = geometry(xd, y, p);
      // Inference mode: no workspace, since our max backward does not need one.
      return PoolPlan{g, dnnl::pooling_forward(forward_pd(g, dnnl::prop_kind::forward_inference))};
    });
    std::lock_guard run_lock(onednn::execution_lock(plan.get()));
    plan->primitive.execute(onednn::stream(), {{DNNL_ARG_SRC, onednn::wrap(plan->geometry.src, data(xd))},
                                               {DNNL_ARG_DST, onednn::wrap(plan->geometry.dst, data(y))}});
    onednn::stream().wait();
  });
}

void avg_pool_backward(const TensorBase& gy, const Pool2dParams& p, const TensorBase& gx) {
  check_activation_output("pool2d_backward", gx);
  const TensorBase gyd = onednn::activation_as(gy, is_nhwc(gx));
  auto plan = plan_cache().get(pool_key(kBackward, gx, gyd, p), [&] {
    PoolGeometry g = geometry(gx, gyd, p);
    dnnl::pooling_backward::desc desc(g.algorithm, g.src, g.dst, g.strides, g.kernel, g.padding_l, g.padding_r);
    dnnl::pooling_backward::primitive_desc pd(desc, onednn::engine(), forward_pd(g, dnnl::prop_kind::forward_training));
    return PoolPlan{g, dnnl::pooling_backward(pd)};
  });
  std::lock_guard run_lock(onednn::execution_lock(plan.get()));
  plan->primitive.execute(onednn::stream(), {{DNNL_ARG_DIFF_DST, onednn::wrap(plan->geometry.dst, data(gyd))},
                                             {DNNL_ARG_DIFF_SRC, onednn::wrap(plan->geometry.src, data(gx))}});
  onednn::stream().wait();
}

// gx (dense) gets each gy routed to the first maximum of its window of x; x and gy may be strided.
// The common 2x2, stride-2, unpadded window over rows of contiguous x: every window lies inside the
// plane, so the four taps are read directly and the first maximum is picked by selects.
void max_pool_backward_2x2(const TensorBase& x, const TensorBase& gy, const TensorBase& gx) {
  const int64_t C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t Ho = gy.shape()[2], Wo = gy.shape()[3];
  const int64_t sx0 = x.strides()[0], sx1 = x.strides()[1], sxh = x.strides()[2];
  const int64_t sg0 = gy.strides()[0], sg1 = gy.strides()[1], sgh = gy.strides()[2], sgw = gy.strides()[3];
  const float* px = data(x);
  const float* pgy = data(gy);
  auto* pgx = static_cast<float*>(gx.raw_data());
  std::fill(pgx, pgx + gx.numel(), 0.0f);
  const int64_t planes = x.shape()[0] * C;
  parallel_for(0, planes, std::max<int64_t>(kParallelGrain / std::max<int64_t>(H * W, 1), 1), [=](int64_t lo, int64_t hi) {
    for (int64_t plane = lo; plane < hi; ++plane) {
      const int64_t n = plane / C, c = plane % C;
      const float* xp = px + n * sx0 + c * sx1;
      const float* gyp = pgy + n * sg0 + c * sg1;
      float* gxp = pgx + plane * H * W;
      for (int64_t ho = 0; ho < Ho; ++ho) {
        const float* r0 = xp + 2 * ho * sxh;
        const float* r1 = r0 + sxh;
        float* g0 = gxp + 2 * ho * W;
        for (int64_t wo = 0; wo < Wo; ++wo) {
          const int64_t w = 2 * wo;
          // A tournament in arithmetic, so no branch depends on the data: written as selects,
          // GCC still emitted branches, which mispredicted on about half the windows (20-26% of
          // a W2 step in perf). Strict comparisons, left before right and top before bottom, keep
          // the first maximum in row-major order, as the general loop does.
          const float a = r0[w], b = r0[w + 1], c = r1[w], d = r1[w + 1];
          const auto right_top = static_cast<int64_t>(b > a), right_bottom = static_cast<int64_t>(d > c);
          const float top = std::max(a, b), bottom = std::max(c, d);
          const int64_t top_at = w + right_top, bottom_at = W + w + right_bottom;
          const auto lower = static_cast<int64_t>(bottom > top);
          const int64_t at = top_at + lower * (bottom_at - top_at);
          g0[at] += gyp[ho * sgh + wo * sgw];
        }
      }
    }
  });
}

// One output row of the 2x2 backward over channels-last x: r0, r1 are the two input rows (W * C
// values each, pixel-major), g the row's gradients (pixel wo at g + wo * g_step, its C channels
// contiguous), o0, o1 the two gx rows. Each window's four gx pixels are assigned g or 0 per
// channel by the tournament of the NCHW loop above, made by masking g's bits with all-ones or
// zero: written as selects (`?:`), GCC left this loop scalar with branches, which took 20% of a W2
// step (perf annotate). A whole row per call: one call per window cost another 5%.
DENDRITE_VECTOR_CLONES void max_grad_row_2x2(const float* __restrict r0, const float* __restrict r1,
                                             const float* __restrict g, int64_t g_step, float* __restrict o0,
                                             float* __restrict o1, int64_t Wo, int64_t C) {
  for (int64_t wo = 0; wo < Wo; ++wo) {
    const float *a = r0 + 2 * wo * C, *c = r1 + 2 * wo * C, *gw = g + wo * g_step;
    float *ga = o0 + 2 * wo * C, *gc = o1 + 2 * wo * C;
    for (int64_t k = 0; k < C; ++k) {
      const float va = a[k], vb = a[C + k], vc = c[k], vd = c[C + k];
      const uint32_t v = std::bit_cast<uint32_t>(gw[k]);
      const auto right_top = static_cast<uint32_t>(vb > va), right_bottom = static_cast<uint32_t>(vd > vc);
      const auto lower = static_cast<uint32_t>(std::max(vc, vd) > std::max(va, vb));
      const uint32_t top = lower ^ 1u;
      ga[k] = std::bit_cast<float>(v & (0u - (top & (right_top ^ 1u))));
      ga[C + k] = std::bit_cast<float>(v & (0u - (top & right_top)));
      gc[k] = std::bit_cast<float>(v & (0u - (lower & (right_bottom ^ 1u))));
      gc[C + k] = std::bit_cast<float>(v & (0u - (lower & right_bottom)));
    }
  }
}

// The 2x2 backward on channels-last x and gx (gy any strides; a gy that is not channels-last has
// each row's gradients gathered first). Windows do not overlap, so each window's four gx pixels
// are assigned rather than accumulated, and only the pixels outside every window (the last row and
// column of an odd size) are zeroed: a memset of all of gx was 2.4% of a W2 step.
void max_pool_backward_2x2_nhwc(const TensorBase& x, const TensorBase& gy, const TensorBase& gx) {
  const int64_t C = x.shape()[1], W = x.shape()[3], Ho = gy.shape()[2], Wo = gy.shape()[3];
  const int64_t sx0 = x.strides()[0], sgx0 = gx.strides()[0];
  const int64_t sg0 = gy.strides()[0], sg1 = gy.strides()[1], sgh = gy.strides()[2], sgw = gy.strides()[3];
  const float* px = data(x);
  const float* pgy = data(gy);
  auto* pgx = static_cast<float*>(gx.raw_data());
  const int64_t H = x.shape()[2], N = x.shape()[0];
  for (int64_t n = 0; n < N; ++n) std::fill(pgx + n * sgx0 + 2 * Ho * W * C, pgx + n * sgx0 + H * W * C, 0.0f);
  const int64_t rows = N * Ho, tail = (W - 2 * Wo) * C;
  parallel_for(0, rows, std::max<int64_t>(kParallelGrain / std::max<int64_t>(4 * Wo * C, 1), 1),
               [=](int64_t lo, int64_t hi) {
                 std::vector<float> gathered(sg1 == 1 ? 0 : static_cast<size_t>(Wo * C));
                 for (int64_t row = lo; row < hi; ++row) {
                   const int64_t n = row / Ho, ho = row % Ho;
                   const int64_t at = 2 * ho * W * C;
                   const float* g = pgy + n * sg0 + ho * sgh;
                   int64_t g_step = sgw;
                   if (sg1 != 1) {
                     for (int64_t wo = 0; wo < Wo; ++wo) {
                       for (int64_t k = 0; k < C; ++k)
                         gathered[static_cast<size_t>(wo * C + k)] = g[wo * sgw + k * sg1];
                     }
                     g = gathered.data();
                     g_step = C;
                   }
                   float* o0 = pgx + n * sgx0 + at;
                   max_grad_row_2x2(px + n * sx0 + at, px + n * sx0 + at + W * C, g, g_step, o0, o0 + W * C, Wo, C);
                   std::fill(o0 + 2 * Wo * C, o0 + 2 * Wo * C + tail, 0.0f);
                   std::fill(o0 + W * C + 2 * Wo * C, o0 + W * C + 2 * Wo * C + tail, 0.0f);
                 }
               });
}

void max_pool_backward(const TensorBase& x, const TensorBase& gy, const Pool2dParams& p, const TensorBase& gx) {
  const int64_t C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t Ho = gy.shape()[2], Wo = gy.shape()[3];
  // Geometry in locals: read through references inside the loop, every stride and kernel size was
  // reloaded on each step (the stores to gx may alias them as far as the compiler knows), and this
  // loop took 32% of a W2 training step (perf, docs/performance.md).
  const int64_t sx0 = x.strides()[0], sx1 = x.strides()[1], sxh = x.strides()[2], sxw = x.strides()[3];
  const int64_t sg0 = gy.strides()[0], sg1 = gy.strides()[1], sgh = gy.strides()[2], sgw = gy.strides()[3];
  // gx is dense (NCHW or channels-last), so zeroing numel() elements from its start covers it.
  const int64_t so0 = gx.strides()[0], so1 = gx.strides()[1], soh = gx.strides()[2], sow = gx.strides()[3];
  const int64_t kh = p.kernel[0], kw = p.kernel[1], sh = p.stride[0], sw = p.stride[1];
  const int64_t ph = p.padding[0], pw = p.padding[1];
  const float* px = data(x);
  const float* pgy = data(gy);
  auto* pgx = static_cast<float*>(gx.raw_data());
  std::fill(pgx, pgx + gx.numel(), 0.0f);
  const int64_t planes = x.shape()[0] * C;
  const int64_t work_per_plane = std::max<int64_t>(Ho * Wo * kh * kw, 1);
  // Planes are independent, so threads split them and no two threads write the same gx element.
  parallel_for(0, planes, std::max<int64_t>(kParallelGrain / work_per_plane, 1), [=](int64_t lo, int64_t hi) {
    for (int64_t plane = lo; plane < hi; ++plane) {
      const int64_t n = plane / C, c = plane % C;
      const float* xp = px + n * sx0 + c * sx1;
      const float* gyp = pgy + n * sg0 + c * sg1;
      float* gxp = pgx + n * so0 + c * so1;
      for (int64_t ho = 0; ho < Ho; ++ho) {
        const int64_t h_start = ho * sh - ph;
        const int64_t h0 = std::max<int64_t>(h_start, 0), h1 = std::min(h_start + kh, H);
        for (int64_t wo = 0; wo < Wo; ++wo) {
          const int64_t w_start = wo * sw - pw;
          const int64_t w0 = std::max<int64_t>(w_start, 0), w1 = std::min(w_start + kw, W);
          if (h0 >= h1 || w0 >= w1) continue;
          float best = -std::numeric_limits<float>::infinity();
          int64_t best_at = h0 * soh + w0 * sow;
          for (int64_t h = h0; h < h1; ++h) {
            for (int64_t w = w0; w < w1; ++w) {
              const float v = xp[h * sxh + w * sxw];
              const bool better = v > best;  // strict: ties keep the first maximum
              best = better ? v : best;      // selects, not branches: which tap wins is random
              best_at = better ? h * soh + w * sow : best_at;
            }
          }
          gxp[best_at] += gyp[ho * sgh + wo * sgw];
        }
      }
    }
  });
}

void pool2d_backward(const TensorBase& x, const TensorBase& y, const TensorBase& gy, const Pool2dParams& p,
                     const TensorBase& gx) {
  (void)y;  // the window maxima are recomputed from x, which also tells where they sit
  onednn::guarded("pool2d_backward", [&] {
    if (gx.numel() == 0) return;
    if (gy.numel() == 0) {
      std::fill(static_cast<float*>(gx.raw_data()), static_cast<float*>(gx.raw_data()) + gx.numel(), 0.0f);
      return;
    }
    if (p.kind == PoolKind::max) {
      check_activation_output("pool2d_backward", gx);
      if (is_nhwc(gx) && is_2x2_nhwc(p, x, gy.shape())) return max_pool_backward_2x2_nhwc(x, gy, gx);
      if (gx.is_contiguous() && is_2x2(p, x, gy.shape())) return max_pool_backward_2x2(x, gy, gx);
      return max_pool_backward(x, gy, p, gx);
    }
    avg_pool_backward(gy, p, gx);
  });
}

}  // namespace

void register_pool(Registry& registry) {
  registry.add<OpId::pool2d_forward>(Backend::cpu, DType::f32, pool2d_forward);
  registry.add<OpId::pool2d_backward>(Backend::cpu, DType::f32, pool2d_backward);
}

}  // namespace dendrite::kernels::cpu
