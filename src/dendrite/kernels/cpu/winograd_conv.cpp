// Winograd F(4x4, 3x3) convolution (winograd_conv.h). With d a 6x6 block of input, g a 3x3 kernel
// and B, G, A the transforms of Lavin & Gray (2016, section 4.2, F(4x4, 3x3) on the points 0, 1,
// -1, 2, -2 and infinity), the 4x4 block of output is
//
//     Y = A^T [ (G g G^T) . (B^T d B) ] A          (. : elementwise, over 6x6)
//
// and summing over input channels before the output transform turns the 36 elementwise products
// into 36 matrix products, one per element xi of the 6x6 block:
//
//     M[xi] (tiles x O) = V[xi] (tiles x C) @ U[xi] (C x O)
//
// with V = B^T d B per tile and channel, U = G g G^T per channel pair (made once per constant
// weight). The work runs in three passes over a chunk of tiles small enough that V and M stay in
// the core's L2: transform the input blocks, the 36 products, transform the output blocks (bias
// and ReLU folded into the last). Channels are the vector lanes throughout: 16 input channels per
// vector in the input transform, 16 output channels per vector in the products and the output
// transform.
#include "dendrite/kernels/cpu/winograd_conv.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "dendrite/core/storage.h"
#include "dendrite/core/threading.h"
#include "dendrite/kernels/constant_operand.h"
#include "dendrite/kernels/precision.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define DENDRITE_WINOGRAD_X86 1
#endif

namespace dendrite::kernels::cpu {

#ifdef DENDRITE_WINOGRAD_X86
// GCC 12's AVX-512 intrinsics start several operations from _mm512_undefined_ps(), which its own
// -Wuninitialized then reports in every caller (a known false positive of the header).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace {

constexpr int kAlpha = 6;             // input block side: 4 outputs + 3 taps - 1
constexpr int kOut = 4;               // output block side
constexpr int kXi = kAlpha * kAlpha;  // elements of a transformed block, one product each
constexpr int kRowBlock = 6;          // tiles per register block of the products (6 x 64 outputs)
constexpr int kLanes = 16;

// Weights not declared constant are transformed on every call (~18 us for 32 x 64 channel pairs),
// which against oneDNN's direct convolution (~6 us a tile of W5's layer, ~1.8 us here) pays from
// about 5 tiles; this many leaves a margin. W5's layer at batch 1 (9 tiles) takes 34 us so against
// oneDNN's 54 (conv_bench, one thread).
constexpr int64_t kMinTilesPerWeightTransform = 8;

// V and M of a chunk of tiles stay within about this many bytes (the L2 of the cores we run on is
// 1-2 MiB; U, read by every chunk, comes on top).
constexpr int64_t kChunkBytes = 512 * 1024;

// G applied to three vectors (a row or a column of 3x3 kernels, 16 output channels a vector).
__attribute__((target("avx512f"))) inline void kernel_rows(const __m512 (&g)[3], __m512 (&o)[kAlpha]) {
  const __m512 quarter = _mm512_set1_ps(1.0f / 4), sixth = _mm512_set1_ps(1.0f / 6);
  const __m512 twelfth = _mm512_set1_ps(1.0f / 12), twentyfourth = _mm512_set1_ps(1.0f / 24);
  const __m512 s02 = _mm512_add_ps(g[0], g[2]);
  const __m512 even = _mm512_fmadd_ps(twentyfourth, g[0], _mm512_mul_ps(sixth, g[2]));  // g0/24 + g2/6
  o[0] = _mm512_mul_ps(quarter, g[0]);
  o[1] = _mm512_mul_ps(_mm512_set1_ps(-1.0f / 6), _mm512_add_ps(s02, g[1]));
  o[2] = _mm512_mul_ps(sixth, _mm512_sub_ps(g[1], s02));
  o[3] = _mm512_fmadd_ps(twelfth, g[1], even);
  o[4] = _mm512_fnmadd_ps(twelfth, g[1], even);
  o[5] = g[2];
}

// U[xi][c][o] = (G g G^T)[xi] for every (input, output) channel pair, from w [O, C, 3, 3]; 16
// output channels a vector, gathered from their rows of w.
__attribute__((target("avx512f"))) void transform_weights(const float* w, int64_t O, int64_t C, float* u) {
  const __m512i rows = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                          _mm512_set1_epi32(static_cast<int>(C * 9)));
  for (int64_t o = 0; o < O; o += kLanes) {
    for (int64_t c = 0; c < C; ++c) {
      const float* g = w + (o * C + c) * 9;
      __m512 taps[9];
      for (int k = 0; k < 9; ++k) taps[k] = _mm512_i32gather_ps(rows, g + k, 4);
      __m512 gt[3][kAlpha];  // column j of G g in gt[j]
      for (int j = 0; j < 3; ++j) {
        const __m512 column[3] = {taps[j], taps[3 + j], taps[6 + j]};
        kernel_rows(column, gt[j]);
      }
      for (int i = 0; i < kAlpha; ++i) {
        const __m512 row[3] = {gt[0][i], gt[1][i], gt[2][i]};
        __m512 out[kAlpha];
        kernel_rows(row, out);
        for (int j = 0; j < kAlpha; ++j) _mm512_storeu_ps(u + ((i * kAlpha + j) * C + c) * O + o, out[j]);
      }
    }
  }
}

// B^T applied to six vectors: the rows (or, applied to each row, the columns) of an input block.
__attribute__((target("avx512f"))) inline void input_rows(const __m512 (&d)[kAlpha], __m512 (&o)[kAlpha]) {
  const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f), two = _mm512_set1_ps(2.0f);
  const __m512 d42 = _mm512_sub_ps(d[4], d[2]), d43 = _mm512_sub_ps(d[4], d[3]);
  o[0] = _mm512_fnmadd_ps(five, d[2], _mm512_fmadd_ps(four, d[0], d[4]));
  o[1] = _mm512_fnmadd_ps(four, _mm512_add_ps(d[1], d[2]), _mm512_add_ps(d[3], d[4]));
  o[2] = _mm512_fmadd_ps(four, _mm512_sub_ps(d[1], d[2]), d43);
  o[3] = _mm512_fmadd_ps(two, _mm512_sub_ps(d[3], d[1]), d42);
  o[4] = _mm512_fmadd_ps(two, _mm512_sub_ps(d[1], d[3]), d42);
  o[5] = _mm512_fnmadd_ps(five, d[3], _mm512_fmadd_ps(four, d[1], d[5]));
}

// A^T applied to six vectors: four outputs from a row (or column) of a transformed output block.
__attribute__((target("avx512f"))) inline void output_rows(const __m512 (&m)[kAlpha], __m512 (&y)[kOut]) {
  const __m512 two = _mm512_set1_ps(2.0f), four = _mm512_set1_ps(4.0f), eight = _mm512_set1_ps(8.0f);
  const __m512 s12 = _mm512_add_ps(m[1], m[2]), d12 = _mm512_sub_ps(m[1], m[2]);
  const __m512 s34 = _mm512_add_ps(m[3], m[4]), d34 = _mm512_sub_ps(m[3], m[4]);
  y[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
  y[1] = _mm512_fmadd_ps(two, d34, d12);
  y[2] = _mm512_fmadd_ps(four, s34, s12);
  y[3] = _mm512_add_ps(_mm512_fmadd_ps(eight, d34, d12), m[5]);
}

// Where the tiles of one call lie. Strides in elements; channels are contiguous in x and y.
struct Geometry {
  const float* x;
  int64_t H, W, C, x_n, x_h, x_w;
  const float* u;  // U[xi][c][o]
  const float* bias;
  bool relu;
  float* y;
  int64_t Ho, Wo, O, y_n, y_h, y_w;
  int64_t pad_h, pad_w;
  int64_t tiles_h, tiles_w;
};

// V[xi][t][c] for the tiles [t0, t0 + T) of the call.
__attribute__((target("avx512f"))) void transform_inputs(const Geometry& g, int64_t t0, int64_t T, float* v) {
  const int64_t per_image = g.tiles_h * g.tiles_w;
  for (int64_t t = 0; t < T; ++t) {
    const int64_t tile = t0 + t, n = tile / per_image, th = (tile % per_image) / g.tiles_w, tw = tile % g.tiles_w;
    const int64_t h0 = th * kOut - g.pad_h, w0 = tw * kOut - g.pad_w;
    const float* image = g.x + n * g.x_n;
    for (int64_t c = 0; c < g.C; c += kLanes) {
      const auto lanes = static_cast<__mmask16>(g.C - c >= kLanes ? 0xFFFF : (1u << (g.C - c)) - 1);
      __m512 rows[kAlpha][kAlpha];  // B^T d B, built row by row: first each row's column transform
      for (int i = 0; i < kAlpha; ++i) {
        __m512 d[kAlpha];
        const int64_t h = h0 + i;
        for (int j = 0; j < kAlpha; ++j) {
          const int64_t w = w0 + j;
          const bool inside = h >= 0 && h < g.H && w >= 0 && w < g.W;
          d[j] = inside ? _mm512_maskz_loadu_ps(lanes, image + h * g.x_h + w * g.x_w + c) : _mm512_setzero_ps();
        }
        input_rows(d, rows[i]);
      }
      for (int j = 0; j < kAlpha; ++j) {
        __m512 col[kAlpha], out[kAlpha];
        for (int i = 0; i < kAlpha; ++i) col[i] = rows[i][j];
        input_rows(col, out);
        for (int i = 0; i < kAlpha; ++i) _mm512_mask_storeu_ps(v + ((i * kAlpha + j) * T + t) * g.C + c, lanes, out[i]);
      }
    }
  }
}

// M[xi][t0 + r][o0 + 16 k] for r < R, k < VN: one register block of a product, rows of V
// broadcast against VN vectors of U per input channel.
template <int R, int VN>
__attribute__((target("avx512f"))) void product_block(const float* v, const float* u, float* m, int64_t C, int64_t O) {
  __m512 acc[R][VN];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int k = 0; k < VN; ++k) acc[r][k] = _mm512_setzero_ps();
  for (int64_t c = 0; c < C; ++c) {
    __m512 b[VN];
#pragma GCC unroll 4
    for (int k = 0; k < VN; ++k) b[k] = _mm512_loadu_ps(u + c * O + k * kLanes);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(v[r * C + c]);
#pragma GCC unroll 4
      for (int k = 0; k < VN; ++k) acc[r][k] = _mm512_fmadd_ps(a, b[k], acc[r][k]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int k = 0; k < VN; ++k) _mm512_storeu_ps(m + r * O + k * kLanes, acc[r][k]);
}

template <int R>
void product_rows(const float* v, const float* u, float* m, int64_t C, int64_t O) {
  int64_t o = 0;
  for (; o + 4 * kLanes <= O; o += 4 * kLanes) product_block<R, 4>(v, u + o, m + o, C, O);
  switch ((O - o) / kLanes) {
    case 3: product_block<R, 3>(v, u + o, m + o, C, O); break;
    case 2: product_block<R, 2>(v, u + o, m + o, C, O); break;
    case 1: product_block<R, 1>(v, u + o, m + o, C, O); break;
    default: break;
  }
}

// M[xi] = V[xi] @ U[xi] for every xi, over T tiles.
void products(const Geometry& g, int64_t T, const float* v, float* m) {
  using Rows = void (*)(const float*, const float*, float*, int64_t, int64_t);
  static constexpr std::array<Rows, kRowBlock + 1> by_rows{
      nullptr, product_rows<1>, product_rows<2>, product_rows<3>, product_rows<4>, product_rows<5>, product_rows<6>};
  for (int xi = 0; xi < kXi; ++xi) {
    const float* vx = v + xi * T * g.C;
    const float* ux = g.u + xi * g.C * g.O;
    float* mx = m + xi * T * g.O;
    for (int64_t t = 0; t < T; t += kRowBlock) {
      const auto rows = static_cast<size_t>(std::min<int64_t>(kRowBlock, T - t));
      by_rows[rows](vx + t * g.C, ux, mx + t * g.O, g.C, g.O);
    }
  }
}

// y for the tiles [t0, t0 + T): A^T M A per tile and 16 output channels, plus bias, then ReLU;
// the output rows and columns past the edge of y (the last tiles' overhang) are not written.
__attribute__((target("avx512f"))) void transform_outputs(const Geometry& g, int64_t t0, int64_t T, const float* m) {
  const int64_t per_image = g.tiles_h * g.tiles_w;
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t t = 0; t < T; ++t) {
    const int64_t tile = t0 + t, n = tile / per_image, th = (tile % per_image) / g.tiles_w, tw = tile % g.tiles_w;
    const int64_t h0 = th * kOut, w0 = tw * kOut;
    const int64_t rows = std::min<int64_t>(kOut, g.Ho - h0), cols = std::min<int64_t>(kOut, g.Wo - w0);
    float* image = g.y + n * g.y_n;
    for (int64_t o = 0; o < g.O; o += kLanes) {
      __m512 half[kAlpha][kOut];  // M A, row by row
      for (int i = 0; i < kAlpha; ++i) {
        __m512 row[kAlpha];
        for (int j = 0; j < kAlpha; ++j) row[j] = _mm512_loadu_ps(m + ((i * kAlpha + j) * T + t) * g.O + o);
        output_rows(row, half[i]);
      }
      const __m512 bias = g.bias ? _mm512_loadu_ps(g.bias + o) : zero;
      for (int64_t j = 0; j < cols; ++j) {
        __m512 col[kAlpha], out[kOut];
        for (int i = 0; i < kAlpha; ++i) col[i] = half[i][j];
        output_rows(col, out);
        for (int64_t i = 0; i < rows; ++i) {
          __m512 value = _mm512_add_ps(out[i], bias);
          if (g.relu) value = _mm512_max_ps(value, zero);
          _mm512_storeu_ps(image + (h0 + i) * g.y_h + (w0 + j) * g.y_w + o, value);
        }
      }
    }
  }
}

bool have_avx512() {
  static const bool have = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
  }();
  return have;
}

// Channels contiguous, every other axis at any stride (channels-last, or a slice of it).
bool channels_contiguous(const TensorBase& t) { return t.dim() == 4 && (t.shape()[1] == 1 || t.stride(1) == 1); }

}  // namespace

bool run_winograd_conv3x3(const TensorBase& x, const TensorBase& w, const TensorBase& bias, const Conv2dParams& p,
                          const TensorBase& y) {
  if (!p.forward_only || p.groups != 1 || p.stride != std::array<int64_t, 2>{1, 1} ||
      p.dilation != std::array<int64_t, 2>{1, 1} || p.padding[0] < 0 || p.padding[1] < 0)
    return false;
  if (x.dtype() != DType::f32 || y.dtype() != DType::f32 || w.dtype() != DType::f32 || w.dim() != 4 ||
      w.shape()[2] != 3 || w.shape()[3] != 3 || !w.is_contiguous() || !channels_contiguous(x) ||
      !channels_contiguous(y) || !have_avx512())
    return false;
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t O = w.shape()[0], Ho = y.shape()[2], Wo = y.shape()[3];
  if (C < kWinogradMinInputChannels || O % kLanes != 0 || w.shape()[1] != C || y.shape()[0] != N || y.shape()[1] != O ||
      Ho != H + 2 * p.padding[0] - 2 || Wo != W + 2 * p.padding[1] - 2 || Ho <= 0 || Wo <= 0)
    return false;
  if (bias.defined() &&
      (bias.dim() != 1 || bias.shape()[0] != O || bias.dtype() != DType::f32 || (O > 1 && bias.stride(0) != 1)))
    return false;
  const int64_t tiles_h = (Ho + kOut - 1) / kOut, tiles_w = (Wo + kOut - 1) / kOut, tiles = N * tiles_h * tiles_w;
  ConversionCache* conversions = constant_operand_cache(w);
  // Under bf16 only declared weights: with the kept transform this f32 path beat oneDNN's bf16 one
  // (W5's CNN); with a per-call transform it was measured only in training, where it was level.
  if (conversions == nullptr && (tiles < kMinTilesPerWeightTransform || math_precision() == MathPrecision::bf16))
    return false;

  // The transformed weights: kept with a constant declaration, else made for this call.
  static const std::string kKey = "winograd_f4x4_3x3";
  std::shared_ptr<const TensorBase> u = conversions ? conversions->find(w, kKey) : nullptr;
  if (!u) {
    TensorBase buffer = TensorBase::empty({kXi, C, O});
    transform_weights(static_cast<const float*>(w.raw_data()), O, C, static_cast<float*>(buffer.raw_data()));
    u = conversions ? conversions->insert(w, kKey, std::move(buffer))
                    : std::make_shared<const TensorBase>(std::move(buffer));
  }

  const Geometry g{static_cast<const float*>(x.raw_data()),
                   H,
                   W,
                   C,
                   x.stride(0),
                   x.stride(2),
                   x.stride(3),
                   static_cast<const float*>(u->raw_data()),
                   bias.defined() ? static_cast<const float*>(bias.raw_data()) : nullptr,
                   p.relu,
                   static_cast<float*>(y.raw_data()),
                   Ho,
                   Wo,
                   O,
                   y.stride(0),
                   y.stride(2),
                   y.stride(3),
                   p.padding[0],
                   p.padding[1],
                   tiles_h,
                   tiles_w};
  const int64_t bytes_per_tile = kXi * (C + O) * static_cast<int64_t>(sizeof(float));
  const int64_t chunk = std::max<int64_t>(kRowBlock, kChunkBytes / bytes_per_tile / kRowBlock * kRowBlock);
  const int64_t chunks = (tiles + chunk - 1) / chunk;
  // A chunk is ~kXi * chunk * C * O multiply-adds; one is enough work for a thread of its own.
  parallel_for(0, chunks, 1, [&](int64_t lo, int64_t hi) {
    Storage scratch = Storage::allocate(static_cast<size_t>(chunk * bytes_per_tile));
    auto* v = static_cast<float*>(scratch.data());
    float* m = v + kXi * chunk * C;
    for (int64_t k = lo; k < hi; ++k) {
      const int64_t t0 = k * chunk, T = std::min(chunk, tiles - t0);
      transform_inputs(g, t0, T, v);
      products(g, T, v, m);
      transform_outputs(g, t0, T, m);
    }
  });
  return true;
}

#else

bool run_winograd_conv3x3(const TensorBase&, const TensorBase&, const TensorBase&, const Conv2dParams&,
                          const TensorBase&) {
  return false;
}

#endif

}  // namespace dendrite::kernels::cpu
