// A one-row product reads every weight once and does one multiply-add with it, so it runs at the
// speed the core streams the weights from its caches, and what matters is keeping that stream
// going: each output is the dot product of x with one weight row, eight rows at a time (eight
// sequential streams, eight independent accumulator chains), sixteen lanes of K per step, the K
// tail as one masked step, and four rows' sums folded into one 4-lane store. oneDNN's sgemm, which
// these products went to before, took 10% longer on each of the W5 MLP's products and 3 us more
// on the three together (one thread, standalone: 784x512 17.1 against 18.7 us, 512x512 10.7
// against 12.2 us, all three 30.3 against 33.4 us, against 27.5 us to read the same 2.6 MB;
// docs/performance.md, W5). More rows of a reuse each block of weight rows from L1.
#include "dendrite/kernels/cpu/row_products.h"

#include <algorithm>
#include <cstdint>

#include "dendrite/core/threading.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define DENDRITE_ROW_PRODUCTS_X86 1
#endif

namespace dendrite::kernels::cpu {

#ifdef DENDRITE_ROW_PRODUCTS_X86
// GCC 12's AVX-512 intrinsics start several operations from _mm512_undefined_ps(), which its own
// -Wuninitialized then reports in every caller (a known false positive of the header).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace {

// Rows of the weight per block: eight streams keep the core's loads busy (four and two were 1-4%
// slower on the W5 MLP's products, prefetching the next block 5% slower).
constexpr int64_t kBlock = 8;

struct Operands {
  const float* a;
  int64_t a_row;  // stride between rows of a
  const float* w;
  int64_t w_row;  // stride between rows of the weight (columns of b)
  const float* bias;
  float* out;
  int64_t M, N, K;
};

// The sums of a0..a3's lanes, in that order.
__attribute__((target("avx512f,avx512dq"))) inline __m128 sum4(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
  const __m512 b0 = _mm512_add_ps(_mm512_unpacklo_ps(a0, a1), _mm512_unpackhi_ps(a0, a1));
  const __m512 b1 = _mm512_add_ps(_mm512_unpacklo_ps(a2, a3), _mm512_unpackhi_ps(a2, a3));
  // Each 128-bit lane now holds partial sums of a0, a1, a2, a3 in that order.
  const __m512 c = _mm512_add_ps(_mm512_shuffle_ps(b0, b1, 0x44), _mm512_shuffle_ps(b0, b1, 0xEE));
  const __m256 d = _mm256_add_ps(_mm512_castps512_ps256(c), _mm512_extractf32x8_ps(c, 1));
  return _mm_add_ps(_mm256_castps256_ps128(d), _mm256_extractf128_ps(d, 1));
}

// out[0, R) = bias[0, R) + x . w_r for R weight rows starting at w. The loops over R are unrolled
// by hand-written pragma: left to GCC under the target attribute, acc stayed a stack array zeroed
// by `rep stos` every block (512x512: 11.1 against 12.3 us a product).
template <int R>
__attribute__((target("avx512f,avx512dq"))) void dot_rows(const float* x, const float* w, int64_t w_row,
                                                          const float* bias, float* out, int64_t K) {
  __m512 acc[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    const __m512 xv = _mm512_loadu_ps(x + k);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_loadu_ps(w + r * w_row + k), xv, acc[r]);
  }
  if (k < K) {
    const auto tail = static_cast<__mmask16>((1u << (K - k)) - 1);
    const __m512 xv = _mm512_maskz_loadu_ps(tail, x + k);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, w + r * w_row + k), xv, acc[r]);
  }
  if constexpr (R % 4 == 0) {
    for (int r = 0; r < R; r += 4) {
      __m128 sums = sum4(acc[r], acc[r + 1], acc[r + 2], acc[r + 3]);
      if (bias) sums = _mm_add_ps(sums, _mm_loadu_ps(bias + r));
      _mm_storeu_ps(out + r, sums);
    }
  } else {
    for (int r = 0; r < R; ++r) out[r] = (bias ? bias[r] : 0.0f) + _mm512_reduce_add_ps(acc[r]);
  }
}

// Output columns [n, n + R) for every row of a: the block of R weight rows is read from memory
// once and from L1 for the other rows of a.
template <int R>
__attribute__((target("avx512f,avx512dq"))) void column_block(const Operands& p, int64_t n) {
  const float* w = p.w + n * p.w_row;
  const float* bias = p.bias ? p.bias + n : nullptr;
  for (int64_t m = 0; m < p.M; ++m) dot_rows<R>(p.a + m * p.a_row, w, p.w_row, bias, p.out + m * p.N + n, p.K);
}

// Output columns [n0, n1): blocks of eight weight rows, then four, then one at a time.
__attribute__((target("avx512f,avx512dq"))) void run_columns(const Operands& p, int64_t n0, int64_t n1) {
  int64_t n = n0;
  for (; n + kBlock <= n1; n += kBlock) column_block<kBlock>(p, n);
  if (n + 4 <= n1) {
    column_block<4>(p, n);
    n += 4;
  }
  for (; n < n1; ++n) column_block<1>(p, n);
}

bool have_avx512() {
  static const bool have = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  }();
  return have;
}

}  // namespace

bool run_row_products(const TensorBase& a, const TensorBase& b, const TensorBase& bias, const TensorBase& out) {
  if (out.dim() != 2 || a.dim() != 2 || b.dim() != 2 || !out.is_contiguous()) return false;
  const int64_t M = out.shape()[0], N = out.shape()[1], K = a.shape()[1];
  if (M > kRowProductMaxRows || K == 0 || !have_avx512()) return false;
  // Unit stride along K on both sides (any stride is unit for an axis of one element).
  if ((K > 1 && (a.stride(1) != 1 || b.stride(0) != 1)) || (bias.defined() && N > 1 && bias.stride(0) != 1))
    return false;
  const Operands p{static_cast<const float*>(a.raw_data()),
                   a.stride(0),
                   static_cast<const float*>(b.raw_data()),
                   b.stride(1),
                   bias.defined() ? static_cast<const float*>(bias.raw_data()) : nullptr,
                   static_cast<float*>(out.raw_data()),
                   M,
                   N,
                   K};
  // Blocks of weight rows are split across threads once a share reads kParallelGrain weights.
  const int64_t blocks = (N + kBlock - 1) / kBlock;
  const int64_t grain = std::max<int64_t>(kParallelGrain / (kBlock * K), 1);
  parallel_for(0, blocks, grain,
               [&](int64_t lo, int64_t hi) { run_columns(p, lo * kBlock, std::min(hi * kBlock, N)); });
  return true;
}

#else

bool run_row_products(const TensorBase&, const TensorBase&, const TensorBase&, const TensorBase&) { return false; }

#endif

}  // namespace dendrite::kernels::cpu
