// The command line: CLI11 declares the subcommands and their options; the work is in commands.h.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <exception>

#include "dendrite/cli/commands.h"
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

void add_train(CLI::App& app, TrainArgs& a) {
  CLI::App* train = app.add_subcommand("train", "Train a model from a recipe; writes a run directory");
  train->add_option("recipe", a.recipe,
                    "a built-in recipe's name (see `dendrite recipes`) or the path of a .toml recipe");
  optional_option(train, "--epochs", a.epochs, "passes over the training set (train.epochs)", "N");
  optional_option(train, "--batch", a.batch, "training batch size (train.batch)", "N");
  optional_option(train, "--lr", a.lr, "learning rate, the peak under a schedule (optim.lr)", "X");
  optional_option(train, "--threads", a.threads, "compute threads, 0 for every core (train.threads)", "N");
  optional_option(train, "--seed", a.seed, "random seed (train.seed)", "N");
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
}

void add_eval(CLI::App& app, EvalArgs& a) {
  CLI::App* eval = app.add_subcommand("eval", "Evaluate a run's checkpoint on its test set");
  eval->add_option("run_dir", a.run_dir, "a run directory written by `dendrite train`")->required();
  eval->add_option("--checkpoint", a.checkpoint, "best (the default; last when there is no best) or last")
      ->check(CLI::IsMember({"best", "last"}));
  optional_option(eval, "--threads", a.threads, "compute threads", "N");
  optional_option(eval, "--batch", a.batch, "evaluation batch size", "N");
  optional_option(eval, "--limit-test", a.limit_test, "evaluate on the first N test examples only", "N");
}

void add_predict(CLI::App& app, PredictArgs& a) {
  CLI::App* predict = app.add_subcommand("predict", "Classify PNG images with a run's model");
  predict->add_option("run_dir", a.run_dir, "a run directory written by `dendrite train`")->required();
  predict->add_option("files", a.files, "PNG images of the model's input size (28x28 grey for Fashion-MNIST)")
      ->required();
  predict->add_option("--checkpoint", a.checkpoint, "best (the default) or last")
      ->check(CLI::IsMember({"best", "last"}));
  predict->add_option("--top", a.top, "show the K most probable classes")->type_name("K");
  optional_option(predict, "--threads", a.threads, "compute threads", "N");
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

  // CLI11 would only say that a subcommand is required; name the word it did not know.
  const std::string first = argc > 1 ? argv[1] : "";
  if (!first.empty() && first[0] != '-' && first != "train" && first != "eval" && first != "predict" &&
      first != "recipes") {
    err << fmt::format(
        "dendrite: error: unknown command '{}'; commands: train, eval, predict, recipes (see "
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
    if (app.got_subcommand("train")) return train_command(train_args, out, terminal);
    if (app.got_subcommand("eval")) return eval_command(eval_args, out);
    if (app.got_subcommand("predict")) return predict_command(predict_args, out);
    return recipes_command(out);
  } catch (const std::exception& e) {  // dendrite::Error and anything the system throws (files, memory)
    out.flush();
    err << fmt::format("dendrite: error: {}\n", e.what());
    return 1;
  }
}

}  // namespace dendrite::cli
