// W5: batch-1 inference latency of the W1 MLP and the W2 CNN (untrained weights: the time does not
// depend on their values), in eval mode without autograd, with the weights frozen
// (nn::FrozenParameters: converted to the kernels' layouts once, as PyTorch's frozen TorchScript,
// its best configuration here, prepacks them), on one thread unless --threads says otherwise.
// Each call is timed on its own; the figure is the median, with the minimum beside it.

#include <algorithm>

#include "dendrite/autograd/autograd.h"
#include "dendrite/cli/bench_models.h"
#include "dendrite/cli/bench_workloads.h"
#include "dendrite/core/random.h"
#include "dendrite/core/threading.h"
#include "dendrite/nn/frozen_parameters.h"
#include "dendrite/ops/creation.h"

namespace dendrite::cli {
namespace {

BenchRecord measure(const std::string& model, nn::Sequential net, double forward_flops, const BenchPlan& plan) {
  net.eval();
  autograd::NoGradGuard no_grad;
  const nn::FrozenParameters frozen(net);
  Generator gen(plan.seed);
  const Tensor x = randn({1, 1, 28, 28}, DType::f32, gen);
  Tensor y;
  for (int i = 0; i < (plan.quick ? 10 : 200); ++i) y = net(x);

  // Calls until the time budget is spent, within [min_calls, max_calls].
  const double budget = plan.quick ? 0.05 : 1.0;
  const int64_t min_calls = plan.quick ? 20 : 200, max_calls = 20000;
  std::vector<double> latencies;
  const int64_t start = now_ns();
  while (static_cast<int64_t>(latencies.size()) < max_calls &&
         (static_cast<int64_t>(latencies.size()) < min_calls || seconds_since(start) < budget)) {
    const int64_t call = now_ns();
    y = net(x);
    latencies.push_back(seconds_since(call) * 1e6);
  }

  BenchRecord r;
  r.key = "W5/" + model;
  r.workload = "W5";
  r.name = "batch-1 inference, " + model;  // W1's network (mlp) or W2's (cnn), as torch_workloads.py names it
  r.metric = "latency_us";
  r.unit = "us";
  r.higher_is_better = false;
  r.value = median(latencies);
  r.threads = plan.inference_threads;
  r.add("min_us", *std::min_element(latencies.begin(), latencies.end()));
  r.add("calls", static_cast<double>(latencies.size()));
  r.add("gflops", forward_flops / r.value / 1e3);
  return r;
}

}  // namespace

std::vector<BenchRecord> run_inference(const BenchPlan& plan) {
  ScopedThreads threads(plan.inference_threads);
  manual_seed(plan.seed);
  std::vector<BenchRecord> records;
  records.push_back(measure("mlp", bench_mlp(), mlp_forward_flops(), plan));
  records.push_back(measure("cnn", bench_cnn(), cnn_forward_flops(), plan));
  records.back().add("max_rss_mb", max_rss_mb());
  return records;
}

}  // namespace dendrite::cli
