// One result of `dendrite bench`, and its two renderings: a JSON object on one line (the schema
// bench/torch_workloads.py writes too, so bench/run.py reads both sides alike) and a text line.
//
// JSON fields, always present:
//   key        what is compared across implementations: "W1", "W1/accuracy", "W4/512x512x512", "W5/mlp"
//   workload   "W1" ... "W8";  name  a short description, e.g. "MLP 784-512-512-10 training"
//   impl       "dendrite";  config  "default" (the runner names PyTorch's configurations)
//   metric     samples_per_s | gflops | latency_us | test_accuracy;  unit  as printed
//   value      the figure compared;  higher_is_better  true / false
//   threads    the compute threads it ran with
// then numeric extras that depend on the workload, e.g. batch, steps, warmup, seconds, loss,
// gflops, peak_gflops, peak_fraction, min_us, onednn_sgemm_gflops, vs_onednn, max_rss_mb,
// load_average. Non-finite numbers are written as null.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace dendrite::cli {

struct BenchRecord {
  std::string key;
  std::string workload;
  std::string name;
  std::string metric;
  std::string unit;
  double value = 0;
  bool higher_is_better = true;
  int threads = 1;
  std::vector<std::pair<std::string, double>> extras;  // written in this order after the fixed fields

  void add(std::string field, double number) { extras.emplace_back(std::move(field), number); }
};

// {"key": "W1", ...} on one line, no trailing newline.
std::string to_json(const BenchRecord& record);
// "W1           MLP 784-512-512-10 training   12,345.6 samples/s   (threads 2, ...)".
std::string to_text(const BenchRecord& record);
// A JSON string literal with quotes, backslashes and control characters escaped.
std::string json_quote(const std::string& text);
// A number as JSON: shortest round-trip form, null when not finite.
std::string json_number(double value);

}  // namespace dendrite::cli
