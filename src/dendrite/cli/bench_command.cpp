// `dendrite bench`: its options, the plan they resolve to, and the output (text or JSON lines).
#include "dendrite/cli/bench_command.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "dendrite/cli/bench_workloads.h"
#include "dendrite/cli/fma_peak.h"
#include "dendrite/core/error.h"
#include "dendrite/core/threading.h"
#include "dendrite/data/fashion_mnist.h"
#include "dendrite/kernels/precision.h"

namespace dendrite::cli {
namespace {

template <typename T>
void optional_flag(CLI::App* app, const std::string& name, std::optional<T>& target, const std::string& help) {
  app->add_option_function<T>(
         name, [&target](const T& value) { target = value; }, help)
      ->type_name("N");
}

BenchPlan resolve(const BenchArgs& a) {
  DENDRITE_CHECK(!a.threads || *a.threads >= 1, "bench: --threads must be at least 1, got {}", *a.threads);
  DENDRITE_CHECK(!a.steps || *a.steps >= 1, "bench: --steps must be at least 1, got {}", *a.steps);
  DENDRITE_CHECK(!a.warmup || *a.warmup >= 0, "bench: --warmup must be 0 or more, got {}", *a.warmup);
  DENDRITE_CHECK(!a.epochs || *a.epochs >= 1, "bench: --epochs must be at least 1, got {}", *a.epochs);
  DENDRITE_CHECK(!a.peak_gflops || *a.peak_gflops > 0, "bench: --peak-gflops must be positive, got {}", *a.peak_gflops);
  DENDRITE_CHECK(!(a.full_epoch && a.steps), "bench: give --steps or --full-epoch, not both");
  DENDRITE_CHECK(!a.epochs || a.accuracy, "bench: --epochs applies to --accuracy runs only");
  BenchPlan p;
  p.threads = a.threads ? static_cast<int>(*a.threads) : num_threads();
  p.inference_threads = a.threads ? static_cast<int>(*a.threads) : 1;
  p.warmup = a.warmup.value_or(a.quick ? 2 : 20);
  p.steps = a.steps;
  if (!p.steps && a.quick && !a.full_epoch) p.steps = 5;
  p.full_epoch = a.full_epoch;
  p.accuracy = a.accuracy;
  p.epochs = a.epochs;
  p.quick = a.quick;
  p.seed = static_cast<uint64_t>(a.seed);
  if (a.peak_gflops) {
    p.peak_gflops = *a.peak_gflops;
    p.peak_source = "given";
  }
  p.g2p_run = a.g2p_run;
  p.g2p_rescore = a.g2p_rescore;
  // W7 runs only when selected, and a list given by name selects only what it names.
  p.g2p_required = !a.workloads.empty();
  p.data_dir = a.data_dir.empty() ? std::filesystem::path(data::kFashionMnistDir) : std::filesystem::path(a.data_dir);
  return p;
}

void print_catalogue(const BenchArgs& a, std::ostream& out) {
  for (const Workload& w : workload_catalogue()) {
    if (a.json) {
      out << fmt::format("{{\"workload\": {}, \"description\": {}, \"available\": {}, \"missing\": {}}}\n",
                         json_quote(w.id), json_quote(w.description), w.run ? "true" : "false", json_quote(w.missing));
    } else {
      out << fmt::format("{}  {}{}\n", w.id, w.description,
                         w.run ? "" : fmt::format("\n    not available: {}", w.missing));
    }
  }
}

std::string describe_plan(const BenchPlan& p, const std::vector<const Workload*>& workloads) {
  std::string ids;
  for (const Workload* w : workloads) ids += (ids.empty() ? "" : ",") + w->id;
  const std::string steps =
      p.accuracy     ? fmt::format("accuracy, epochs {}", p.epochs ? fmt::format("{}", *p.epochs) : "default")
      : p.full_epoch ? "one epoch"
      : p.steps      ? fmt::format("{}", *p.steps)
                     : "default";
  const std::string peak = p.peak_source.empty()
                               ? std::string("measured at the start")
                               : fmt::format("{:.1f} GFLOP/s per thread ({})", p.peak_gflops, p.peak_source);
  return fmt::format(
      "dendrite bench: workloads {}; threads {} (W5: {}); warm-up steps {}; timed steps {}; quick {}; seed {}; FMA "
      "peak {}; data {}; matmul precision {}",
      ids, p.threads, p.inference_threads, p.warmup, steps, p.quick ? "yes" : "no", p.seed, peak, p.data_dir.string(),
      kernels::name(kernels::math_precision()));
}

void print_peak(const FmaPeak& peak, bool json, std::ostream& out) {
  if (json) {
    out << fmt::format("{{\"fma_peak_gflops\": {:.3f}, \"isa\": {}}}\n", peak.gflops, json_quote(peak.isa));
  } else {
    out << fmt::format("FP32 FMA peak: {:.1f} GFLOP/s on one core ({}; independent chains, best of 6 windows)\n",
                       peak.gflops, peak.isa);
  }
}

double load_average() {
  double load[1] = {0};
  return getloadavg(load, 1) == 1 ? load[0] : -1;
}

}  // namespace

CLI::App* add_bench(CLI::App& app, BenchArgs& a) {
  CLI::App* bench = app.add_subcommand("bench", "Time the reference workloads (BENCHMARKS.md) on this machine");
  bench->add_option("--workload", a.workloads, "comma-separated workloads, e.g. W1,W4 (default: every available one)")
      ->delimiter(',')
      ->type_name("LIST");
  optional_flag(bench, "--threads", a.threads, "compute threads (default: every core; W5 defaults to 1)");
  optional_flag(bench, "--steps", a.steps, "timed training steps of W1/W2 (default: W1 one epoch, W2 100)");
  optional_flag(bench, "--warmup", a.warmup, "untimed training steps before timing (default 20)");
  optional_flag(bench, "--epochs", a.epochs, "epochs of an --accuracy run (default: W1 5, W2 3)");
  bench->add_flag("--full-epoch", a.full_epoch, "time one whole epoch of W1/W2 instead of --steps");
  bench->add_flag("--accuracy", a.accuracy, "train W1/W2 for whole epochs and report their test accuracy");
  bench->add_flag("--json", a.json, "one JSON object per result and line (the schema bench/run.py reads)");
  bench->add_flag("--quick", a.quick, "a smoke run: few steps and short timing windows");
  bench->add_flag("--list", a.list, "list the workloads and which are available, then exit");
  bench->add_flag("--dry-run", a.dry_run, "print the resolved plan without running it");
  bench->add_flag("--probe-peak", a.probe_peak, "measure this CPU's FP32 FMA peak on one core, print it and exit");
  bench->add_option("--seed", a.seed, "random seed for weights, data order and inputs")->type_name("N");
  bench
      ->add_option_function<double>(
          "--peak-gflops", [&a](const double& value) { a.peak_gflops = value; },
          "FP32 FMA peak of one core, for the roofline fractions (default: measured, see --probe-peak)")
      ->type_name("X");
  bench->add_option("--data", a.data_dir, "Fashion-MNIST directory (default /usr/share/datasets/fashion-mnist)")
      ->type_name("DIR");
  bench->add_option("--g2p-run", a.g2p_run, "W7: a trained G2P run directory (default runs/g2p-lstm)")
      ->type_name("DIR");
  bench
      ->add_option("--g2p-rescore", a.g2p_rescore,
                   "W7: also time decoding rescored by this run (as `dendrite eval --rescore`; weight 1)")
      ->type_name("DIR");
  bench->add_option("--precision", a.precision, "f32 or bf16 matrix products (default: DENDRITE_PRECISION, else f32)")
      ->type_name("P");
  return bench;
}

int bench_command(const BenchArgs& args, std::ostream& out) {
  if (args.list) {
    print_catalogue(args, out);
    return 0;
  }
  if (args.probe_peak) {
    print_peak(measure_fma_peak(), args.json, out);
    return 0;
  }
  const std::vector<const Workload*> workloads = select_workloads(args.workloads);
  BenchPlan plan = resolve(args);
  const kernels::ScopedMathPrecision precision(
      args.precision.empty() ? kernels::math_precision() : kernels::parse_math_precision(args.precision, "bench: --precision"));
  if (args.dry_run) {
    out << describe_plan(plan, workloads) << "\n";
    return 0;
  }
  const double load = load_average();  // before the probe adds its own
  if (plan.peak_source.empty()) {
    const FmaPeak peak = measure_fma_peak();
    plan.peak_gflops = peak.gflops;
    plan.peak_source = "measured, " + peak.isa;
  }
  if (!args.json) {
    out << describe_plan(plan, workloads) << "\n";
    // More than a fraction of a core busy elsewhere skews timings on a small machine.
    if (load > 0.5)
      out << fmt::format("warning: load average {:.2f}: other work is running; figures will be noisy\n", load);
    out.flush();
  }
  ScopedThreads threads(plan.threads);
  for (const Workload* w : workloads) {
    for (BenchRecord& r : w->run(plan)) {
      r.add("load_average", load);
      out << (args.json ? to_json(r) : to_text(r)) << "\n";
      out.flush();  // a long run shows each result as it comes
    }
  }
  return 0;
}

}  // namespace dendrite::cli
