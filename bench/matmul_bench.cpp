// f32 matmul throughput through Dendrite's Tensor API against oneDNN's own sgemm at the same
// shapes, in GFLOP/s (2*M*N*K per product), and against the bare oneDNN matmul primitive that
// Dendrite's kernel runs. The gap to the primitive is the framework's overhead: dispatch, the
// cached primitive lookup and the output allocation. Dendrite should reach 85% of sgemm.
//
//   ./matmul_bench [--threads=N] [--benchmark_* flags]      (1 thread unless told otherwise)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dnnl.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "dendrite/dendrite.h"

namespace dd = dendrite;

namespace {

void report_flops(benchmark::State& state, int64_t M, int64_t K, int64_t N) {
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

void dendrite_matmul(benchmark::State& state) {
  const int64_t M = state.range(0), K = state.range(1), N = state.range(2);
  dd::Generator gen(1);
  dd::Tensor a = dd::randn({M, K}, dd::DType::f32, gen), b = dd::randn({K, N}, dd::DType::f32, gen);
  for (auto _ : state) {
    dd::Tensor c = dd::matmul(a, b);
    benchmark::DoNotOptimize(c.raw_data());
  }
  report_flops(state, M, K, N);
}

void onednn_sgemm(benchmark::State& state) {
  const int64_t M = state.range(0), K = state.range(1), N = state.range(2);
  dd::Generator gen(1);
  dd::Tensor a = dd::randn({M, K}, dd::DType::f32, gen), b = dd::randn({K, N}, dd::DType::f32, gen);
  std::vector<float> c(static_cast<size_t>(M * N));
  const float* pa = a.data_ptr<float>();
  const float* pb = b.data_ptr<float>();
  for (auto _ : state) {
    // Row-major, no transposes: C[M, N] = A[M, K] B[K, N].
    if (dnnl_sgemm('N', 'N', M, N, K, 1.0f, pa, K, pb, N, 0.0f, c.data(), N) != dnnl_success) {
      state.SkipWithError("dnnl_sgemm failed");
      break;
    }
    benchmark::DoNotOptimize(c.data());
  }
  report_flops(state, M, K, N);
}

// The matmul primitive Dendrite's kernel uses, created once, with a preallocated output: the
// same computation as dendrite_matmul minus everything the framework adds.
void onednn_matmul_primitive(benchmark::State& state) {
  const int64_t M = state.range(0), K = state.range(1), N = state.range(2);
  dd::Generator gen(1);
  dd::Tensor a = dd::randn({M, K}, dd::DType::f32, gen), b = dd::randn({K, N}, dd::DType::f32, gen);
  std::vector<float> c(static_cast<size_t>(M * N));
  using tag = dnnl::memory::format_tag;
  const auto f32 = dnnl::memory::data_type::f32;
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  dnnl::memory::desc a_md({M, K}, f32, tag::ab), b_md({K, N}, f32, tag::ab), c_md({M, N}, f32, tag::ab);
  dnnl::matmul product(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md, b_md, c_md), engine));
  dnnl::memory ma(a_md, engine, a.data_ptr<float>()), mb(b_md, engine, b.data_ptr<float>()), mc(c_md, engine, c.data());
  for (auto _ : state) {
    product.execute(stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
    stream.wait();
    benchmark::DoNotOptimize(c.data());
  }
  report_flops(state, M, K, N);
}

void shapes(benchmark::internal::Benchmark* bench) {
  bench->ArgNames({"M", "K", "N"});
  bench->Args({128, 784, 512})->Args({512, 512, 512})->Args({1024, 1024, 1024});
  bench->Unit(benchmark::kMicrosecond);
}

BENCHMARK(dendrite_matmul)->Apply(shapes);
BENCHMARK(onednn_sgemm)->Apply(shapes);
BENCHMARK(onednn_matmul_primitive)->Apply(shapes);

// One row against a Linear's [N, K] weight (batch-1 inference: W5's layers): Dendrite's linear,
// which runs the product on its own dot-product kernel (kernels/cpu/row_products.h), against
// dnnl_sgemm on the same transposed weight, bias included on both sides. Both read the weight
// once per call; what separates them is how fast they stream it.
void dendrite_row_product(benchmark::State& state) {
  const int64_t K = state.range(0), N = state.range(1);
  dd::autograd::NoGradGuard no_grad;
  dd::Generator gen(5);
  dd::Tensor x = dd::randn({1, K}, dd::DType::f32, gen), w = dd::randn({N, K}, dd::DType::f32, gen);
  dd::Tensor bias = dd::randn({N}, dd::DType::f32, gen);
  for (auto _ : state) benchmark::DoNotOptimize(dd::linear(x, w, bias).raw_data());
  report_flops(state, 1, K, N);
}

void onednn_sgemm_row_product(benchmark::State& state) {
  const int64_t K = state.range(0), N = state.range(1);
  dd::Generator gen(5);
  dd::Tensor x = dd::randn({1, K}, dd::DType::f32, gen), w = dd::randn({N, K}, dd::DType::f32, gen);
  dd::Tensor bias = dd::randn({N}, dd::DType::f32, gen);
  std::vector<float> c(static_cast<size_t>(N));
  const float* pb = bias.data_ptr<float>();
  for (auto _ : state) {
    std::copy(pb, pb + N, c.data());
    if (dnnl_sgemm('N', 'T', 1, N, K, 1.0f, x.data_ptr<float>(), K, w.data_ptr<float>(), K, 1.0f, c.data(), N) !=
        dnnl_success) {
      state.SkipWithError("dnnl_sgemm failed");
      break;
    }
    benchmark::DoNotOptimize(c.data());
  }
  report_flops(state, 1, K, N);
}

void row_shapes(benchmark::internal::Benchmark* bench) {
  bench->ArgNames({"K", "N"});
  bench->Args({784, 512})->Args({512, 512})->Args({1600, 128})->Args({512, 10});
  bench->Unit(benchmark::kMicrosecond);
}

BENCHMARK(dendrite_row_product)->Apply(row_shapes);
BENCHMARK(onednn_sgemm_row_product)->Apply(row_shapes);

// A Transformer's attention scores, q k^T per head, at g2p-transformer's shape (batch 128, 4 heads
// of 32, length 10): `split_heads` takes q and k as the [B, heads, L, 32] views that splitting a
// [B, L, 128] projection makes (batch strides that do not merge into one axis); `dense` the same
// values copied to [B * heads, L, 32] first (one batch axis), as a reference.
void attention_scores(benchmark::State& state) {
  constexpr int64_t kBatch = 128, kHeads = 4, kLength = 10, kDepth = 32;
  dd::Generator gen(3);
  auto heads = [&](const dd::Tensor& x) { return x.reshape({kBatch, kLength, kHeads, kDepth}).transpose(1, 2); };
  dd::Tensor q = heads(dd::randn({kBatch, kLength, kHeads * kDepth}, dd::DType::f32, gen));
  dd::Tensor k = heads(dd::randn({kBatch, kLength, kHeads * kDepth}, dd::DType::f32, gen));
  if (state.range(0) == 0) {
    q = q.contiguous().reshape({kBatch * kHeads, kLength, kDepth});
    k = k.contiguous().reshape({kBatch * kHeads, kLength, kDepth});
  }
  for (auto _ : state) benchmark::DoNotOptimize(dd::matmul(q, k.transpose(-1, -2)));
  report_flops(state, kBatch * kHeads * kLength, kDepth, kLength);
}
BENCHMARK(attention_scores)->ArgName("split_heads")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// Takes --threads=N out of argv (Google Benchmark rejects flags it does not know).
int take_threads_flag(int& argc, char** argv) {
  int threads = 1;
  int kept = 0;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (i > 0 && arg.starts_with("--threads=")) {
      threads = std::atoi(argv[i] + std::strlen("--threads="));
      continue;
    }
    argv[kept++] = argv[i];
  }
  argc = kept;
  return threads;
}

}  // namespace

int main(int argc, char** argv) {
  // One OpenMP pool serves oneDNN and Dendrite alike, so this governs both sides of the comparison.
  try {
    dd::set_num_threads(take_threads_flag(argc, argv));
  } catch (const dd::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("threads", std::to_string(dd::num_threads()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
