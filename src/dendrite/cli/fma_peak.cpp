// The FMA probe: twelve independent accumulator chains in a loop, so that the loop runs at the
// core's FMA issue rate rather than at one chain's latency (two pipes x 4-cycle latency need at
// least eight chains in flight; twelve leave slack and still fit the register file). The values
// converge to 1 (x <- 0.9999999 x + 1e-7), so no denormal or overflow slows a window down.
#include "dendrite/cli/fma_peak.h"

#include <algorithm>
#include <chrono>
#include <cstdint>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define DENDRITE_FMA_PROBE_X86 1
#endif

namespace dendrite::cli {
namespace {

constexpr int kChains = 12;
constexpr float kScale = 0.9999999f;
constexpr float kShift = 1e-7f;

// Keeps the accumulated result alive, so the compiler cannot drop the loop.
volatile float g_sink = 0;

#ifdef DENDRITE_FMA_PROBE_X86
__attribute__((target("avx512f"))) int64_t fma_avx512(int64_t iterations) {
  const __m512 a = _mm512_set1_ps(kScale), b = _mm512_set1_ps(kShift);
  __m512 acc[kChains];
  for (__m512& v : acc) v = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (__m512& v : acc) v = _mm512_fmadd_ps(v, a, b);
  }
  __m512 sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm512_add_ps(sum, acc[c]);
  alignas(64) float lanes[16];  // not _mm512_reduce_add_ps: GCC 12's header warns inside it
  _mm512_store_ps(lanes, sum);
  g_sink = lanes[0];
  return iterations * kChains * 16 * 2;
}

__attribute__((target("avx2,fma"))) int64_t fma_avx2(int64_t iterations) {
  const __m256 a = _mm256_set1_ps(kScale), b = _mm256_set1_ps(kShift);
  __m256 acc[kChains];
  for (__m256& v : acc) v = _mm256_set1_ps(1.0f);
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (__m256& v : acc) v = _mm256_fmadd_ps(v, a, b);
  }
  __m256 sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm256_add_ps(sum, acc[c]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  g_sink = lanes[0];
  return iterations * kChains * 8 * 2;
}
#endif

// Whatever the compiler makes of plain multiply-adds on eight-float rows: CPUs without the above.
int64_t fma_generic(int64_t iterations) {
  float acc[kChains][8];
  for (auto& row : acc) std::fill(std::begin(row), std::end(row), 1.0f);
  for (int64_t i = 0; i < iterations; ++i)
    for (auto& row : acc)
      for (float& v : row) v = v * kScale + kShift;
  g_sink = acc[0][0];
  return iterations * kChains * 8 * 2;
}

using Kernel = int64_t (*)(int64_t);

struct Choice {
  Kernel kernel;
  const char* isa;
};

Choice choose() {
#ifdef DENDRITE_FMA_PROBE_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {fma_avx512, "avx512f"};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {fma_avx2, "avx2+fma"};
#endif
  return {fma_generic, "generic"};
}

double seconds(Kernel kernel, int64_t iterations, int64_t& flop) {
  const auto start = std::chrono::steady_clock::now();
  flop = kernel(iterations);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

FmaPeak measure_fma_peak() {
  const Choice choice = choose();
  // Calibrate to ~15 ms windows, then keep the best of six: the first windows also wake the core
  // from low frequency, and a shared machine preempts some.
  int64_t flop = 0;
  int64_t iterations = 1 << 14;
  double t = seconds(choice.kernel, iterations, flop);
  while (t < 2e-3 && iterations < (int64_t{1} << 40)) {
    iterations *= 4;
    t = seconds(choice.kernel, iterations, flop);
  }
  iterations = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(iterations) * 15e-3 / std::max(t, 1e-9)));
  double best = 0;
  for (int window = 0; window < 6; ++window) {
    t = seconds(choice.kernel, iterations, flop);
    if (t > 0) best = std::max(best, static_cast<double>(flop) / t * 1e-9);
  }
  return {best, choice.isa};
}

}  // namespace dendrite::cli
