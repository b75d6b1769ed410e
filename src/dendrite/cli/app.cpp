// The command line: CLI11 declares the subcommands and their options; the work is in commands.h.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <exception>

#include "dendrite/cli/bench_command.h"
#include "dendrite/cli/commands.h"
#include "dendrite/cli/g2p.h"
#include "dendrite/core/error.h"

namespace dendrite::cli {
namespace {

// An option whose absence leaves `target` empty, so a flag overrides the recipe only when given.
template <typename T>
CLI::Option* optional_option(CLI::App* app, const std::string& name, std::optional<T>& target, const std::string& help,
                             const std::string& type) {
  return app
      ->add_option_function<T>(
          name, [&target](const T& value) { target = value; }, help)
      ->type_name(type);
}

// `mpirun -np N dendrite train RECIPE --dist MODE ...` (dist/options.h says what each flag does).
void add_dist_options(CLI::App* train, dist::Options& d) {
  train
      ->add_option_function<std::string>(
          "--dist", [&d](const std::string& mode) { d.mode = dist::parse_mode(mode); },
          "distributed training under mpirun: none, allreduce, ps-async, ps-sync or ps-ssp")
      ->check(CLI::IsMember({"none", "allreduce", "ps-async", "ps-sync", "ps-ssp"}))
      ->type_name("MODE");
  train->add_option("--servers", d.servers, "parameter-server ranks (the last S ranks; default 1)")->type_name("S");
  train->add_option("--staleness", d.staleness, "ps-ssp: most pushes a worker may run ahead (default 2)")
      ->type_name("S");
  train->add_option("--backup", d.backup, "ps-sync: backup workers whose late gradients are dropped (default 0)")
      ->type_name("B");
  train->add_option("--n-fetch", d.n_fetch, "parameter server: fetch parameters every F steps (default 1)")
      ->type_name("F");
  train->add_option("--n-push", d.n_push, "parameter server: push gradients every P steps (default 1)")
      ->type_name("P");
  train->add_option("--ps-optim", d.ps_optim, "parameter server: the shards' rule, adagrad (default) or sgd")
      ->type_name("RULE");
  optional_option(train, "--ps-lr", d.ps_lr, "parameter server: the shards' learning rate (default: optim.lr)", "X");
  train->add_flag("--staleness-lr", d.staleness_lr, "parameter server: divide each gradient's lr by its staleness");
  train->add_option("--bucket-mb", d.bucket_mb, "allreduce: gradient bucket size in MiB (default 1)")->type_name("X");
  train->add_flag("--deterministic", d.deterministic,
                  "allreduce: sum in rank order on every rank, so repeated runs are bit-identical");
  train->add_option("--comm-timeout", d.comm_timeout, "seconds a rank waits for its peers before reporting (300)")
      ->type_name("SECONDS");
  train->add_option("--warm-start", d.warm_start, "ps-*: worker 0 trains alone for K steps, then the rest join")
      ->type_name("K");
  train->add_option("--slow-rank", d.slow_rank, "tests/benchmarks: make this worker a straggler")->type_name("R");
  train->add_option("--slow-factor", d.slow_factor, "tests/benchmarks: the straggler's steps take F times as long")
      ->type_name("F");
}

void add_train(CLI::App& app, TrainArgs& a) {
  CLI::App* train = app.add_subcommand("train", "Train a model from a recipe; writes a run directory");
  train->add_option("recipe", a.recipe,
                    "a built-in recipe's name (see `dendrite recipes`) or the path of a .toml recipe");
  optional_option(train, "--epochs", a.epochs, "passes over the training set (train.epochs)", "N");
  optional_option(train, "--batch", a.batch, "training batch size (train.batch)", "N");
  optional_option(train, "--lr", a.lr, "learning rate, the peak under a schedule (optim.lr)", "X");
  optional_option(train, "--threads", a.threads, "compute threads, 0 for every core (train.threads)", "N");
  optional_option(train, "--seed", a.seed, "random seed (train.seed)", "N");
  optional_option(train, "--precision", a.precision,
                  "f32, or bf16 inputs to matrix products with f32 accumulation (train.precision)", "P");
  optional_option(train, "--out", a.out, "run directory (train.out; default runs/<recipe>)", "DIR");
  optional_option(train, "--limit-train", a.limit_train, "train on the first N examples only (data.limit_train)", "N");
  optional_option(train, "--limit-test", a.limit_test, "evaluate on the first N examples only (data.limit_test)", "N");
  train->add_option("--set", a.sets, "override any recipe key, e.g. --set optim.momentum=0.95 (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);  // one assignment per --set, so a RECIPE after it stays positional
  train
      ->add_option("--resume", a.resume,
                   "continue the run in DIR from its last checkpoint (only --epochs and "
                   "--threads may change)")
      ->type_name("DIR");
  train->add_flag("--print-recipe", a.print_recipe, "print the resolved recipe (after overrides) and exit");
  add_dist_options(train, a.dist);
}

constexpr const char* kRescoreHelp =
    "g2p runs: a second system (a run trained with data.reverse_target = true, say; repeat for an ensemble of "
    "them): both systems' n-best are joined and reranked by log p_run + w log p_rescore (--rescore-weight)";

void add_eval(CLI::App& app, EvalArgs& a) {
  CLI::App* eval = app.add_subcommand("eval", "Evaluate a run's checkpoint on its test set");
  eval->add_option("run_dir", a.run_dir, "a run directory written by `dendrite train`")->required();
  eval->add_option("--checkpoint", a.checkpoint, "best (the default; last when there is no best) or last")
      ->check(CLI::IsMember({"best", "last"}));
  optional_option(eval, "--threads", a.threads, "compute threads", "N");
  optional_option(eval, "--batch", a.batch, "evaluation batch size", "N");
  optional_option(eval, "--limit-test", a.limit_test, "evaluate on the first N test examples only", "N");
  eval->add_option("--ensemble", a.ensemble,
                   "g2p runs: decode with this run's model too, averaging the models' probabilities (repeatable)")
      ->type_name("RUN")
      ->allow_extra_args(false);
  eval->add_option("--rescore", a.rescore, kRescoreHelp)->type_name("RUN")->allow_extra_args(false);
  eval->add_option("--rescore-weight", a.rescore_weights,
                   "g2p runs: w in log p_run + w log p_rescore (default 1); repeat to compare weights (on the dev "
                   "split), one result each")
      ->type_name("W")
      ->allow_extra_args(false);
  eval->add_option("--errors", a.errors,
                   "g2p runs: write every test word beam search got wrong (word, prediction, references, phoneme "
                   "errors, stress only) to this tab-separated file")
      ->type_name("FILE");
  eval->add_option("--split", a.split, "g2p runs: decode the test split (default) or the dev split, to tune decoding")
      ->check(CLI::IsMember({"test", "dev"}));
  optional_option(eval, "--beam", a.beam, "g2p runs: beam width (default: the recipe's decode.beam)", "K");
  optional_option(eval, "--length-penalty", a.length_penalty,
                  "g2p runs: beam search's length normalisation exponent (default: decode.length_penalty)", "A");
}

void add_predict(CLI::App& app, PredictArgs& a) {
  CLI::App* predict =
      app.add_subcommand("predict", "Use a run's model: classify PNG images, or pronounce words (g2p runs)");
  predict->add_option("run_dir", a.run_dir, "a run directory written by `dendrite train`")->required();
  predict->add_option("files", a.files,
                      "PNG images of the model's input size (28x28 grey for Fashion-MNIST), or words for a g2p run")
      ->required();
  predict->add_option("--checkpoint", a.checkpoint, "best (the default) or last")
      ->check(CLI::IsMember({"best", "last"}));
  predict->add_option("--top", a.top, "show the K most probable classes")->type_name("K");
  optional_option(predict, "--threads", a.threads, "compute threads", "N");
  optional_option(predict, "--beam", a.beam, "g2p runs: beam width (1: greedy; default decode.beam)", "K");
  optional_option(predict, "--nbest", a.nbest, "g2p runs: pronunciations shown per word (default decode.nbest)", "N");
  predict
      ->add_option("--ensemble", a.ensemble,
                   "g2p runs: decode with this run's model too, averaging the models' probabilities (repeatable)")
      ->type_name("RUN")
      ->allow_extra_args(false);  // one run per --ensemble, so the words after it stay positional
  predict->add_option("--rescore", a.rescore, kRescoreHelp)->type_name("RUN")->allow_extra_args(false);
  optional_option(predict, "--rescore-weight", a.rescore_weight,
                  "g2p runs: w in log p_run + w log p_rescore (default 1)", "W");
}

}  // namespace

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err, bool terminal) {
  CLI::App app("dendrite: train, evaluate and use neural networks described by TOML recipes", "dendrite");
  app.require_subcommand(1);
  TrainArgs train_args;
  EvalArgs eval_args;
  PredictArgs predict_args;
  add_train(app, train_args);
  add_eval(app, eval_args);
  add_predict(app, predict_args);
  app.add_subcommand("recipes", "List the built-in recipes");
  BenchArgs bench_args;
  add_bench(app, bench_args);

  // CLI11 would only say that a subcommand is required; name the word it did not know.
  const std::string first = argc > 1 ? argv[1] : "";
  if (!first.empty() && first[0] != '-' && first != "train" && first != "eval" && first != "predict" &&
      first != "recipes" && first != "bench") {
    err << fmt::format(
        "dendrite: error: unknown command '{}'; commands: train, eval, predict, recipes, bench (see "
        "dendrite --help)\n",
        first);
    return 1;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e, out, err);  // --help
    err << fmt::format("dendrite: error: {} (see dendrite --help)\n", e.what());
    return 1;
  }

  try {
    // Sequence-to-sequence recipes and runs (g2p.h) have commands of their own.
    if (app.got_subcommand("train"))
      return train_args_are_seq2seq(train_args) ? g2p_train_command(train_args, out, terminal)
                                                : train_command(train_args, out, terminal);
    if (app.got_subcommand("eval"))
      return run_is_seq2seq(eval_args.run_dir) ? g2p_eval_command(eval_args, out) : eval_command(eval_args, out);
    if (app.got_subcommand("predict"))
      return run_is_seq2seq(predict_args.run_dir) ? g2p_predict_command(predict_args, out, err)
                                                  : predict_command(predict_args, out);
    if (app.got_subcommand("bench")) return bench_command(bench_args, out);
    return recipes_command(out);
  } catch (const std::exception& e) {  // dendrite::Error and anything the system throws (files, memory)
    out.flush();
    err << fmt::format("dendrite: error: {}\n", e.what());
    return 1;
  }
}

}  // namespace dendrite::cli
