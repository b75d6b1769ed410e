// W4: f32 GEMM through the tensor API (dendrite::matmul, a fresh output per call as a user's code
// gets it) in GFLOP/s and as a fraction of the FMA peak, beside oneDNN's own dnnl_sgemm at the same
// shape and threads (the target: >= 90% of it). bench/matmul_bench.cpp has the Google
// Benchmark version with the bare oneDNN primitive as well.
//
// The two are timed in alternating rounds of k calls (k sized to ~10 ms), so drift from other work
// on the machine hits both alike; the figure is the median round.
#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <functional>

#include "dendrite/cli/bench_workloads.h"
#include "dendrite/core/error.h"
#include "dendrite/core/random.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/linalg.h"

namespace dendrite::cli {
namespace {

struct Shape3 {
  int64_t m, k, n;
};
constexpr Shape3 kShapes[] = {{128, 784, 512}, {512, 512, 512}, {1024, 1024, 1024}};

// Seconds per call of `fn`, one figure per round.
struct Rounds {
  std::vector<double> ours, reference;
};

Rounds time_alternating(const std::function<void()>& ours, const std::function<void()>& reference, bool quick) {
  for (int i = 0; i < (quick ? 1 : 3); ++i) {  // warm-up: primitive creation, caches, first-touch of buffers
    ours();
    reference();
  }
  int64_t start = now_ns();
  ours();
  const double one_call = std::max(seconds_since(start), 1e-7);
  const auto calls = static_cast<int64_t>(std::clamp((quick ? 0.002 : 0.01) / one_call, 1.0, 10000.0));
  const int rounds = quick ? 3 : 21;
  Rounds r;
  for (int round = 0; round < rounds; ++round) {
    start = now_ns();
    for (int64_t i = 0; i < calls; ++i) ours();
    r.ours.push_back(seconds_since(start) / static_cast<double>(calls));
    start = now_ns();
    for (int64_t i = 0; i < calls; ++i) reference();
    r.reference.push_back(seconds_since(start) / static_cast<double>(calls));
  }
  return r;
}

BenchRecord measure(const Shape3& s, const BenchPlan& plan) {
  Generator gen(plan.seed);
  const Tensor a = randn({s.m, s.k}, DType::f32, gen), b = randn({s.k, s.n}, DType::f32, gen);
  std::vector<float> c(static_cast<size_t>(s.m * s.n));
  const float* pa = a.data_ptr<float>();
  const float* pb = b.data_ptr<float>();
  bool sgemm_ok = true;
  Tensor kept;  // keeps the last product alive so the call cannot be optimised away
  const Rounds rounds = time_alternating([&] { kept = matmul(a, b); },
                                         [&] {
                                           // Row-major, no transposes: C[M, N] = A[M, K] B[K, N].
                                           sgemm_ok &= dnnl_sgemm('N', 'N', s.m, s.n, s.k, 1.0f, pa, s.k, pb, s.n, 0.0f,
                                                                  c.data(), s.n) == dnnl_success;
                                         },
                                         plan.quick);
  DENDRITE_CHECK(sgemm_ok, "bench W4: dnnl_sgemm failed at {}x{}x{}", s.m, s.k, s.n);

  const double flops = 2.0 * static_cast<double>(s.m) * static_cast<double>(s.k) * static_cast<double>(s.n);
  const double ours = flops / median(rounds.ours) / 1e9;
  const double reference = flops / median(rounds.reference) / 1e9;
  BenchRecord r;
  r.key = fmt::format("W4/{}x{}x{}", s.m, s.k, s.n);
  r.workload = "W4";
  r.name = fmt::format("GEMM {}x{}x{} f32 (M x K x N)", s.m, s.k, s.n);
  r.metric = "gflops";
  r.unit = "GFLOP/s";
  r.value = ours;
  r.threads = plan.threads;
  r.add("best_gflops", flops / *std::min_element(rounds.ours.begin(), rounds.ours.end()) / 1e9);
  r.add("rounds", static_cast<double>(rounds.ours.size()));
  r.add("peak_gflops", plan.peak_for(plan.threads));
  r.add("peak_fraction", ours / plan.peak_for(plan.threads));
  r.add("onednn_sgemm_gflops", reference);
  r.add("vs_onednn", ours / reference);
  return r;
}

}  // namespace

std::vector<BenchRecord> run_gemm(const BenchPlan& plan) {
  std::vector<BenchRecord> records;
  for (const Shape3& s : kShapes) records.push_back(measure(s, plan));
  return records;
}

}  // namespace dendrite::cli
