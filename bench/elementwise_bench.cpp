// Memory-bound elementwise and reduction throughput of the cpu loops, in bytes/s, against plain
// C++ loops of the same shape that show what the machine's memory delivers (the STREAM "add"
// kernel, McCalpin 1995, counting 3 arrays of 4-byte floats per element, and memcpy).
//
//   kernel_add      dispatch<OpId::binary>(f32) into a preallocated output: the loop itself
//   kernel_add_small  the same on 64 x 64 floats: the per-call overhead
//   api_add         dendrite::add on Tensors: dispatch, broadcast views and a fresh 64 MiB output
//                   (whose first touch costs page faults) per call
//   stream_add      c[i] = a[i] + b[i] with `omp parallel for simd`: the bandwidth ceiling
//   memcpy          64 MiB array to array (one memcpy per thread), counting read + written bytes
//   weight_read     one thread reading 800 KiB / 2612 KiB once (the argument): what a batch-1
//                   inference that reads its f32 weights once cannot beat
// The argument is the thread count (dendrite::set_num_threads). Reductions (bytes = input read):
//   row_sum / column_sum  [4096, 4096] to [4096, 1] / [1, 4096];  softmax_rows_max  [256, 1000]
//   to [256, 1] (in cache, the shape of a classifier's logits); exp  16M floats (compute-bound).
//   dropout  dendrite::dropout(x, 0.1) on 1M floats, mask drawn and applied (Gelem/s): the
//            transformer's attention-weight dropout is a tensor of about this size per layer.
//
//   ./elementwise_bench [--benchmark_filter=add] [--benchmark_* flags]
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstring>
#include <vector>

#include "dendrite/dendrite.h"
#include "dendrite/kernels/registry.h"

namespace dd = dendrite;
using dd::kernels::BinaryOp;
using dd::kernels::OpId;
using dd::kernels::ReduceOp;
using dd::kernels::UnaryOp;

namespace {

constexpr int64_t kElements = 16 * 1024 * 1024;

void report_bytes(benchmark::State& state, int64_t bytes_per_iteration) {
  state.SetBytesProcessed(state.iterations() * bytes_per_iteration);
}

void kernel_add(benchmark::State& state) {
  dd::ScopedThreads threads(static_cast<int>(state.range(0)));
  dd::Generator gen(1);
  dd::Tensor a = dd::randn({kElements}, dd::DType::f32, gen), b = dd::randn({kElements}, dd::DType::f32, gen);
  dd::Tensor c = dd::zeros({kElements});
  auto add = dd::kernels::dispatch<OpId::binary>(dd::DType::f32);
  for (auto _ : state) {
    add(BinaryOp::add, a, b, c);
    benchmark::DoNotOptimize(c.raw_data());
    benchmark::ClobberMemory();
  }
  report_bytes(state, 3 * 4 * kElements);
}

// A 64 x 64 add: in cache and below kParallelGrain, so the time is mostly per-call overhead
// (dispatch, collapsing the shape, the loop setup).
void kernel_add_small(benchmark::State& state) {
  dd::Generator gen(1);
  dd::Tensor a = dd::randn({64, 64}, dd::DType::f32, gen), b = dd::randn({64, 64}, dd::DType::f32, gen);
  dd::Tensor c = dd::zeros({64, 64});
  auto add = dd::kernels::dispatch<OpId::binary>(dd::DType::f32);
  for (auto _ : state) {
    add(BinaryOp::add, a, b, c);
    benchmark::DoNotOptimize(c.raw_data());
    benchmark::ClobberMemory();
  }
  report_bytes(state, 3 * 4 * a.numel());
}

void api_add(benchmark::State& state) {
  dd::ScopedThreads threads(static_cast<int>(state.range(0)));
  dd::Generator gen(1);
  dd::Tensor a = dd::randn({kElements}, dd::DType::f32, gen), b = dd::randn({kElements}, dd::DType::f32, gen);
  for (auto _ : state) {
    dd::Tensor c = dd::add(a, b);
    benchmark::DoNotOptimize(c.raw_data());
  }
  report_bytes(state, 3 * 4 * kElements);
}

void stream_add(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  std::vector<float> a(kElements, 1.0f), b(kElements, 2.0f), c(kElements, 0.0f);
  float* pa = a.data();
  float* pb = b.data();
  float* pc = c.data();
  for (auto _ : state) {
#pragma omp parallel for simd num_threads(threads) schedule(static)
    for (int64_t i = 0; i < kElements; ++i) pc[i] = pa[i] + pb[i];
    benchmark::DoNotOptimize(pc);
    benchmark::ClobberMemory();
  }
  report_bytes(state, 3 * 4 * kElements);
}

// memcpy of one 64 MiB array into another, split across the threads; counts the bytes read and
// written (8 per element), the same accounting as the adds' 12.
void memcpy_bench(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  std::vector<float> src(kElements, 1.0f), dst(kElements, 0.0f);
  const auto bytes = static_cast<int64_t>(sizeof(float)) * kElements;
  for (auto _ : state) {
#pragma omp parallel num_threads(threads)
    {
      const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
      const int64_t lo = bytes * t / n, hi = bytes * (t + 1) / n;
      std::memcpy(reinterpret_cast<char*>(dst.data()) + lo, reinterpret_cast<const char*>(src.data()) + lo,
                  static_cast<size_t>(hi - lo));
    }
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  report_bytes(state, 2 * bytes);
}

// One thread reading an array of state.range(0) KiB once per iteration (16 float lanes summed):
// the floor of a batch-1 inference that reads its weights once. 2612 KiB is W5's MLP in f32
// (784x512 + 512x512 + 512x10 floats), 800 KiB the W5 CNN's 1600x128 fc1 (docs/performance.md, W5).
void weight_read(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0)) * 1024 / sizeof(float);
  std::vector<float> weights(n, 1.0f);
  for (auto _ : state) {
    float lanes[16] = {};
    for (size_t i = 0; i + 16 <= n; i += 16) {
#pragma omp simd
      for (int j = 0; j < 16; ++j) lanes[j] += weights[i + j];
    }
    benchmark::DoNotOptimize(lanes);
  }
  report_bytes(state, static_cast<int64_t>(n * sizeof(float)));
}

void reduce_bench(benchmark::State& state, const dd::Shape& shape, const dd::Shape& keep, ReduceOp op) {
  dd::ScopedThreads threads(static_cast<int>(state.range(0)));
  dd::Generator gen(1);
  dd::Tensor x = dd::randn(shape, dd::DType::f32, gen);
  dd::Tensor out = dd::empty(keep);
  auto reduce = dd::kernels::dispatch<OpId::reduce>(dd::DType::f32);
  for (auto _ : state) {
    reduce(op, x, out);
    benchmark::DoNotOptimize(out.raw_data());
    benchmark::ClobberMemory();
  }
  report_bytes(state, 4 * x.numel());
}

void row_sum(benchmark::State& state) { reduce_bench(state, {4096, 4096}, {4096, 1}, ReduceOp::sum); }
void column_sum(benchmark::State& state) { reduce_bench(state, {4096, 4096}, {1, 4096}, ReduceOp::sum); }
void softmax_rows_max(benchmark::State& state) { reduce_bench(state, {256, 1000}, {256, 1}, ReduceOp::max); }

void kernel_exp(benchmark::State& state) {
  dd::ScopedThreads threads(static_cast<int>(state.range(0)));
  dd::Generator gen(1);
  dd::Tensor x = dd::randn({kElements}, dd::DType::f32, gen), y = dd::zeros({kElements});
  auto unary = dd::kernels::dispatch<OpId::unary>(dd::DType::f32);
  for (auto _ : state) {
    unary(UnaryOp::exp, x, y);
    benchmark::DoNotOptimize(y.raw_data());
    benchmark::ClobberMemory();
  }
  report_bytes(state, 2 * 4 * kElements);
  state.counters["Gelem/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kElements) / 1e9, benchmark::Counter::kIsRate);
}

void dropout_bench(benchmark::State& state) {
  dd::ScopedThreads threads(static_cast<int>(state.range(0)));
  dd::Generator gen(1);
  constexpr int64_t n = 1 << 20;
  const dd::Tensor x = dd::randn({n}, dd::DType::f32, gen);
  for (auto _ : state) {
    dd::Tensor y = dd::dropout(x, 0.1, true, gen);
    benchmark::DoNotOptimize(y.raw_data());
  }
  state.counters["Gelem/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * n) / 1e9, benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(kernel_add)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(kernel_add_small)->Unit(benchmark::kNanosecond);
BENCHMARK(api_add)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(stream_add)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(weight_read)->ArgName("KiB")->Arg(800)->Arg(2612)->Unit(benchmark::kMicrosecond);
BENCHMARK(memcpy_bench)->Name("memcpy")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(row_sum)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(column_sum)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(softmax_rows_max)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(kernel_exp)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(dropout_bench)->Name("dropout")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
