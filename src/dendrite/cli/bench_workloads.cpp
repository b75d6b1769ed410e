// The workload catalogue, its lookup by name, and the measurement helpers the workloads share.
#include "dendrite/cli/bench_workloads.h"

#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include "dendrite/cli/bench_models.h"
#include "dendrite/core/error.h"
#include "dendrite/core/threading.h"

namespace dendrite::cli {
namespace {

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

std::string available_ids() {
  std::string ids;
  for (const Workload& w : workload_catalogue()) {
    if (w.run == nullptr) continue;
    ids += (ids.empty() ? "" : ", ") + w.id;
  }
  return ids;
}

}  // namespace

const std::vector<Workload>& workload_catalogue() {
  static const std::vector<Workload> catalogue = {
      {"W1", "MLP 784-512-512-10 training (batch 128, SGD momentum 0.9): samples/s; --accuracy: after 5 epochs",
       run_mlp_training, ""},
      {"W2", "CNN training (2 conv + 2 fc, batch 64, Adam 1e-3): samples/s; --accuracy: after 3 epochs",
       run_cnn_training, ""},
      {"W3", "LSTM seq2seq training (embedding 64, LSTM 256 encoder and decoder, batch 64, Adam): sequences/s",
       run_seq2seq_training, ""},
      {"W4", "GEMM 128x784x512, 512^3, 1024^3 through the tensor API: GFLOP/s, fraction of peak, vs oneDNN sgemm",
       run_gemm, ""},
      {"W5", "batch-1 inference latency of the W1 MLP and the W2 CNN, 1 thread: median microseconds", run_inference,
       ""},
      {"W6", "W1 with synchronous data parallelism on 2 ranks x 1 thread: samples/s, scaling", nullptr,
       "distributed training runs under mpirun: python3 bench/dist_bench.py --only w6"},
      {"W7", "G2P decoding of a trained run's test words, beam 5 and greedy, batch 64: words/s", run_g2p_decoding,
       ""},
      {"W8", "int8 runtime, batch-1 W1 MLP and W2 CNN: latency and model size", nullptr,
       "needs the int8 deployment runtime"},
  };
  return catalogue;
}

std::vector<const Workload*> select_workloads(const std::vector<std::string>& names) {
  std::vector<const Workload*> selected;
  if (names.empty()) {
    for (const Workload& w : workload_catalogue())
      if (w.run != nullptr) selected.push_back(&w);
    return selected;
  }
  for (const std::string& name : names) {
    const std::string id = upper(name);
    const auto& all = workload_catalogue();
    const auto found = std::find_if(all.begin(), all.end(), [&](const Workload& w) { return w.id == id; });
    DENDRITE_CHECK(found != all.end(), "bench: unknown workload '{}'; valid workloads: {} (see dendrite bench --list)",
                   name, available_ids());
    DENDRITE_CHECK(found->run != nullptr, "bench: workload {} is not available yet: it {}; available: {}", found->id,
                   found->missing, available_ids());
    if (std::find(selected.begin(), selected.end(), &*found) == selected.end()) selected.push_back(&*found);
  }
  return selected;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double seconds_since(int64_t start_ns) { return static_cast<double>(now_ns() - start_ns) / 1e9; }

double median(std::vector<double> values) {
  DENDRITE_CHECK(!values.empty(), "bench: median of no values");
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  if (values.size() % 2 == 1) return *middle;
  return (*middle + *std::max_element(values.begin(), middle)) / 2;
}

double max_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

}  // namespace dendrite::cli
