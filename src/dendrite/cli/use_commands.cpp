// The commands that use a trained run: `dendrite eval`, `dendrite predict`, and `dendrite recipes`.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "dendrite/autograd/autograd.h"
#include "dendrite/cli/builders.h"
#include "dendrite/cli/commands.h"
#include "dendrite/cli/recipe_files.h"
#include "dendrite/cli/run_dir.h"
#include "dendrite/core/error.h"
#include "dendrite/core/threading.h"
#include "dendrite/data/dataloader.h"
#include "dendrite/data/png.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/join.h"
#include "dendrite/ops/softmax.h"

namespace dendrite::cli {
namespace fs = std::filesystem;
namespace {

struct Accuracy {
  int64_t correct = 0, examples = 0;
  double loss_sum = 0.0;
};

Accuracy evaluate(nn::Module& model, data::DataLoader& loader) {
  autograd::NoGradGuard no_grad;
  Accuracy result;
  for (auto& [x, y] : loader) {
    const Tensor logits = model(x);
    result.loss_sum += cross_entropy(logits, y, {.reduction = Reduction::sum}).item<double>();
    const std::vector<int64_t> predicted = to_vector<int64_t>(logits.argmax(1));
    const std::vector<int64_t> truth = to_vector<int64_t>(y);
    for (size_t i = 0; i < truth.size(); ++i) result.correct += predicted[i] == truth[i];
    result.examples += static_cast<int64_t>(truth.size());
  }
  return result;
}

std::string describe_checkpoint(const LoadedModel& loaded) {
  return fmt::format("{} (epoch {}, step {})", loaded.checkpoint.string(), loaded.state.epoch, loaded.state.step);
}

// The images as one batch shaped like the model's input; a file of another size is an Error naming it.
Tensor read_images(const std::vector<std::string>& files, const Recipe& recipe) {
  const auto& input = recipe.model.input;
  std::vector<Tensor> images;
  for (const std::string& file : files) {
    Tensor image = data::read_png(file, static_cast<int>(input[0]));
    DENDRITE_CHECK(image.size(1) == input[1] && image.size(2) == input[2],
                   "{}: the image is {}x{} (height x width), the model takes {}x{} (model.input in the run's {})", file,
                   image.size(1), image.size(2), input[1], input[2], kConfigFile);
    images.push_back(image);
  }
  return stack(images);
}

// Options only sequence runs take (g2p.h): given for a classification run, an error that says
// which option and names the run's architecture.
void refuse_g2p_option(bool given, const char* refusal, const std::string& run_dir) {
  DENDRITE_CHECK(!given, "{}; {} is a {} run", refusal, run_dir, read_run_recipe(run_dir).model.architecture);
}

void refuse_ensemble(const std::vector<std::string>& ensemble, const std::vector<std::string>& rescore,
                     const std::string& run_dir) {
  refuse_g2p_option(!ensemble.empty(), "--ensemble: only g2p runs decode as an ensemble", run_dir);
  refuse_g2p_option(!rescore.empty(), "--rescore: only g2p runs rescore their n-best", run_dir);
}

void refuse_rescore_weight(bool given, const std::string& run_dir) {
  refuse_g2p_option(given, "--rescore-weight: only g2p runs rescore their n-best", run_dir);
}

}  // namespace

int eval_command(const EvalArgs& args, std::ostream& out) {
  refuse_ensemble(args.ensemble, args.rescore, args.run_dir);
  refuse_rescore_weight(!args.rescore_weights.empty(), args.run_dir);
  refuse_g2p_option(!args.errors.empty(), "--errors: only g2p runs list their wrong words", args.run_dir);
  refuse_g2p_option(args.split != "test", "--split: only g2p runs have a dev split to decode", args.run_dir);
  refuse_g2p_option(args.beam || args.length_penalty, "--beam, --length-penalty: only g2p runs decode", args.run_dir);
  Recipe recipe = read_run_recipe(args.run_dir);
  if (args.batch) recipe.train.eval_batch = *args.batch;
  if (args.limit_test) recipe.data.limit_test = *args.limit_test;
  validate_recipe(recipe, (fs::path(args.run_dir) / kConfigFile).string());
  DENDRITE_CHECK(!args.threads || *args.threads >= 1, "--threads must be >= 1, got {}", args.threads.value_or(0));
  if (args.threads) set_num_threads(static_cast<int>(*args.threads));

  LoadedModel loaded = load_run_model(args.run_dir, recipe, args.checkpoint);
  data::DataLoader loader(load_test_data(recipe),
                          {.batch = recipe.train.eval_batch, .transform = eval_transform(recipe)});
  const Accuracy result = evaluate(*loaded.model, loader);
  const double examples = static_cast<double>(std::max<int64_t>(result.examples, 1));
  out << fmt::format("{}: checkpoint {}\n", recipe.name, describe_checkpoint(loaded));
  out << fmt::format("test accuracy {:.4f} ({} of {}), test loss {:.4f}\n",
                     static_cast<double>(result.correct) / examples, result.correct, result.examples,
                     result.loss_sum / examples);
  return 0;
}

int predict_command(const PredictArgs& args, std::ostream& out) {
  DENDRITE_CHECK(!args.files.empty(), "predict: give at least one PNG file");
  DENDRITE_CHECK(args.top >= 1, "--top must be >= 1, got {}", args.top);
  refuse_ensemble(args.ensemble, args.rescore, args.run_dir);
  refuse_rescore_weight(args.rescore_weight.has_value(), args.run_dir);
  DENDRITE_CHECK(!args.threads || *args.threads >= 1, "--threads must be >= 1, got {}", args.threads.value_or(0));
  if (args.threads) set_num_threads(static_cast<int>(*args.threads));
  const Recipe recipe = read_run_recipe(args.run_dir);
  LoadedModel loaded = load_run_model(args.run_dir, recipe, args.checkpoint);
  const std::vector<std::string> names = class_names(recipe);

  Tensor batch = read_images(args.files, recipe);
  if (data::Transform normalize = eval_transform(recipe)) {
    Generator unused;  // normalisation draws nothing
    batch = normalize(batch, unused);
  }
  autograd::NoGradGuard no_grad;
  const Tensor probabilities = softmax((*loaded.model)(batch), 1);
  const std::vector<float> p = to_vector<float>(probabilities);
  const auto classes = static_cast<size_t>(recipe.model.classes);
  const auto shown = std::min(static_cast<size_t>(args.top), classes);
  for (size_t i = 0; i < args.files.size(); ++i) {
    const float* row = p.data() + i * classes;
    std::vector<size_t> order(classes);
    std::iota(order.begin(), order.end(), size_t{0});
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown), order.end(),
                      [&](size_t a, size_t b) { return row[a] > row[b]; });
    std::vector<std::string> parts;
    for (size_t k = 0; k < shown; ++k) parts.push_back(fmt::format("{} {:.3f}", names[order[k]], row[order[k]]));
    out << fmt::format("{}: {}\n", args.files[i], fmt::join(parts, ", "));
  }
  return 0;
}

int recipes_command(std::ostream& out) {
  const std::vector<RecipeEntry> entries = list_recipes();
  if (entries.empty()) {
    std::vector<std::string> dirs;
    for (const fs::path& d : recipe_dirs()) dirs.push_back(d.string());
    out << fmt::format("no built-in recipes found (looked in {})\n", fmt::join(dirs, ", "));
    return 0;
  }
  size_t width = 0;
  for (const RecipeEntry& e : entries) width = std::max(width, e.name.size());
  for (const RecipeEntry& e : entries) out << fmt::format("{:<{}}  {}\n", e.name, width, e.description);
  return 0;
}

}  // namespace dendrite::cli
