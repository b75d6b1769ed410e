// The workload catalogue of `dendrite bench` (BENCHMARKS.md's W1-W8) and the plan each one runs
// under. A workload is a function from the plan to its results; one whose function is null is a
// slot, listed with the reason it is missing, until its layer lands:
//
//   W6 (data parallel) runs under mpirun: bench/dist_bench.py measures it, not this command.
//   W8 (int8 runtime) waits for its layer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dendrite/cli/bench_record.h"

namespace dendrite::cli {

struct BenchPlan {
  int threads = 1;            // W1, W2, W4
  int inference_threads = 1;  // W5
  int64_t warmup = 20;        // untimed training steps
  std::optional<int64_t> steps;
  bool full_epoch = false;
  bool accuracy = false;
  std::optional<int64_t> epochs;
  bool quick = false;
  uint64_t seed = 1;
  double peak_gflops = 0;   // per thread
  std::string peak_source;  // "given" (--peak-gflops), "measured, avx512f", ...; empty: not yet known
  std::filesystem::path data_dir;
  std::filesystem::path g2p_run;  // W7's trained run; empty: kDefaultG2pRun
  std::filesystem::path g2p_rescore;  // W7: also time rescored decoding with this run; empty: not
  bool g2p_required = false;      // W7 was named: a missing run is an error, not a skip

  double peak_for(int thread_count) const { return peak_gflops * thread_count; }
};

// Where `dendrite train g2p-lstm` writes its run, relative to the working directory.
inline constexpr const char* kDefaultG2pRun = "runs/g2p-lstm";

using WorkloadFn = std::vector<BenchRecord> (*)(const BenchPlan&);

struct Workload {
  std::string id;           // "W1"
  std::string description;  // what BENCHMARKS.md measures
  WorkloadFn run;           // null: not available in this build
  std::string missing;      // why not, when run is null
};

// W1-W8 in order.
const std::vector<Workload>& workload_catalogue();
// The workloads named in `names` (case-insensitive, in the given order, duplicates dropped), or
// every available one when `names` is empty. An unknown or unavailable name is an Error that
// lists the available ones.
std::vector<const Workload*> select_workloads(const std::vector<std::string>& names);

// The workloads (each in its own file).
std::vector<BenchRecord> run_mlp_training(const BenchPlan& plan);  // W1
std::vector<BenchRecord> run_cnn_training(const BenchPlan& plan);  // W2
std::vector<BenchRecord> run_gemm(const BenchPlan& plan);          // W4
std::vector<BenchRecord> run_inference(const BenchPlan& plan);     // W5
std::vector<BenchRecord> run_g2p_decoding(const BenchPlan& plan);  // W7

// Shared measurement helpers.
double seconds_since(int64_t start_ns);
int64_t now_ns();
double median(std::vector<double> values);
// This process's peak resident set so far, in MiB.
double max_rss_mb();

}  // namespace dendrite::cli
