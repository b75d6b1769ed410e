// The `dendrite` subcommands as functions, so tests drive them in-process exactly as the command
// line does (run_cli) and main.cpp only forwards argv. Each returns the process exit status and
// throws dendrite::Error for user mistakes; run_cli turns those into "dendrite: error: ..." lines.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "dendrite/cli/bench_command.h"  // `dendrite bench`: BenchArgs, bench_command
#include "dendrite/dist/options.h"

namespace dendrite::cli {

struct TrainArgs {
  std::string recipe;  // a built-in recipe's name or a .toml path; may be empty with resume
  std::optional<int64_t> epochs, batch, threads, seed, limit_train, limit_test;
  std::optional<double> lr;
  std::optional<std::string> out;
  std::optional<std::string> precision;  // train.precision
  std::string resume;             // a run directory to continue
  std::vector<std::string> sets;  // "section.key=value" overrides, applied before the flags above
  bool print_recipe = false;      // print the resolved recipe and stop
  // Distributed training under mpirun (--dist, --servers, ... --comm-timeout; dist/options.h).
  dist::Options dist{};
};

struct EvalArgs {
  std::string run_dir;
  std::string checkpoint = "best";  // "best" (falls back to "last" when absent) or "last"
  std::optional<int64_t> threads, batch, limit_test;
  std::vector<std::string> ensemble;  // g2p runs: more runs whose models decode together with run_dir's
  // g2p runs: runs (usually trained with data.reverse_target) that form a second system; both
  // systems' n-best are joined and reranked by log p_run + w log p_rescore (train/rescoring.h).
  std::vector<std::string> rescore;
  // The rescoring system's weights to try (log p_run + w log p_rescore); one result each. Empty: {1}.
  std::vector<double> rescore_weights;
  std::string errors;                 // g2p runs: write every word beam search got wrong to this TSV file
  // g2p runs: the split decoded ("test", or "dev" to tune decoding without touching the test set),
  // and the beam width and length penalty (the recipe's decode.beam / decode.length_penalty when absent).
  std::string split = "test";
  std::optional<int64_t> beam;
  std::optional<double> length_penalty;
};

struct PredictArgs {
  std::string run_dir;
  std::vector<std::string> files;
  std::string checkpoint = "best";
  int64_t top = 1;  // classes shown per image
  std::optional<int64_t> threads;
  // Sequence runs (g2p): `files` are words; beam width and pronunciations shown per word (the
  // recipe's decode.beam and decode.nbest when absent).
  std::optional<int64_t> beam, nbest;
  std::vector<std::string> ensemble;  // as EvalArgs::ensemble
  std::vector<std::string> rescore;   // as EvalArgs::rescore
  std::optional<double> rescore_weight;  // w in log p_run + w log p_rescore; 1 when absent
};

struct Recipe;
// The flags of `dendrite train` as recipe keys: the --set assignments first, then the named flags.
// Shared by the classification and the sequence-to-sequence train commands.
void apply_train_flags(Recipe& recipe, const TrainArgs& args);

// `terminal`: whether `out` is a terminal (a redrawn progress bar) or not (plain lines).
int train_command(const TrainArgs& args, std::ostream& out, bool terminal);
int eval_command(const EvalArgs& args, std::ostream& out);
int predict_command(const PredictArgs& args, std::ostream& out);
int recipes_command(std::ostream& out);

// Parses argv (argv[0] is the program) with CLI11 and runs the subcommand. Help goes to `out`
// (status 0); a usage error or a dendrite::Error prints one "dendrite: error: <message>" line to
// `err` (status 1). Never throws.
int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err, bool terminal = false);

}  // namespace dendrite::cli
