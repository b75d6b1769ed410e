// `dendrite bench`: Dendrite's side of the reference workloads of BENCHMARKS.md, for a user's quick
// check of their machine and for bench/run.py, which runs it beside PyTorch (bench/torch_workloads.py)
// and compares the two.
//
//   dendrite bench                         W1, W2, W4, W5 with default threads
//   dendrite bench --workload W1,W4 --threads 2 --json
//   dendrite bench --quick                 a few steps of each: does it run, roughly how fast
//   dendrite bench --accuracy              W1 and W2 trained 5 / 3 epochs: test accuracy
//   dendrite bench --list                  the workloads and which are available
//   dendrite bench --probe-peak            this CPU's FP32 FMA peak on one core (fma_peak.h)
//
// Throughput figures exclude loading the data set; training figures start after the warm-up steps.
// With --json every result is one JSON object on its own line (bench_record.h has the fields).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace dendrite::cli {

struct BenchArgs {
  std::vector<std::string> workloads;  // "W1", "W4", ... (case-insensitive); empty: every available one
  std::optional<int64_t> threads;      // W1, W2, W4 default to every core, W5 to 1 thread
  std::optional<int64_t> steps;        // timed training steps (W1: one epoch, W2: 100 by default)
  std::optional<int64_t> warmup;       // untimed steps first (20 by default)
  std::optional<int64_t> epochs;       // with --accuracy (W1: 5, W2: 3 by default)
  bool full_epoch = false;             // time one whole epoch of W1/W2 instead of --steps
  bool accuracy = false;               // train W1/W2 for whole epochs and report test accuracy
  bool json = false;                   // one JSON object per result and line
  bool quick = false;                  // a few steps and short timing windows: a smoke run
  bool list = false;                   // print the workload catalogue and stop
  bool dry_run = false;                // print the resolved plan and stop
  bool probe_peak = false;             // measure and print the FMA peak, then stop
  int64_t seed = 1;
  // FP32 FMA peak of one core: fractions of the peak divide by it times the thread count. Unset:
  // measured on this CPU when the run starts (measure_fma_peak).
  std::optional<double> peak_gflops;
  std::string data_dir;                        // Fashion-MNIST; empty: data::kFashionMnistDir
  std::string precision;                       // "f32" or "bf16" matmuls; empty: DENDRITE_PRECISION or f32
  std::string g2p_run;                         // W7's trained G2P run; empty: runs/g2p-lstm
  std::string g2p_rescore;                     // W7: a run that rescores g2p_run's n-best; empty: none
};

// Declares the `bench` subcommand and its options on `app`, filling `args` when parsed.
CLI::App* add_bench(CLI::App& app, BenchArgs& args);

// Runs the selected workloads and writes their results to `out`. An unknown workload name, or one
// that is not available in this build (W6, W8), is an Error naming the valid ones.
int bench_command(const BenchArgs& args, std::ostream& out);

}  // namespace dendrite::cli
