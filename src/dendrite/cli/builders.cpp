#include "dendrite/cli/builders.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "dendrite/core/error.h"
#include "dendrite/data/fashion_mnist.h"
#include "dendrite/data/image_folder.h"
#include "dendrite/optim/optim.h"

namespace dendrite::cli {
namespace fs = std::filesystem;
namespace {

std::vector<float> to_floats(const std::vector<double>& values) { return {values.begin(), values.end()}; }

data::TensorDataset limit(const data::TensorDataset& dataset, int64_t n) {
  return n > 0 && n < dataset.size() ? dataset.slice(0, n) : dataset;
}

void check_matches_model(const data::TensorDataset& dataset, const Recipe& recipe, const std::string& split) {
  const Shape& shape = dataset.stored_inputs().shape();
  const Shape expected{dataset.size(), recipe.model.input[0], recipe.model.input[1], recipe.model.input[2]};
  DENDRITE_CHECK(shape == expected,
                 "recipe {}: model.input is [{}] but the {} images are {} (examples, channels, height, width)",
                 recipe.name, fmt::join(recipe.model.input, ", "), split, to_string(shape));
}

data::TensorDataset image_folder_split(const Recipe& recipe, const std::string& split) {
  const fs::path dir = fs::path(recipe.data.dir) / split;
  DENDRITE_CHECK(fs::is_directory(dir),
                 "data.dir: {} has no {}/ directory (an image folder holds train/ and test/, "
                 "each PNG files with a labels.csv)",
                 recipe.data.dir, split);
  return data::image_folder(dir,
                            {.channels = static_cast<int>(recipe.model.input[0]), .num_classes = recipe.model.classes});
}

}  // namespace

std::unique_ptr<optim::Optimizer> build_optimizer(const OptimRecipe& o, nn::NamedTensors params) {
  if (o.kind == "sgd")
    return std::make_unique<optim::SGD>(
        std::move(params),
        optim::SGDOptions{.lr = o.lr, .momentum = o.momentum, .weight_decay = o.weight_decay, .nesterov = o.nesterov});
  if (o.kind == "adam")
    return std::make_unique<optim::Adam>(
        std::move(params),
        optim::AdamOptions{
            .lr = o.lr, .betas = {o.betas[0], o.betas[1]}, .eps = o.eps, .weight_decay = o.weight_decay});
  if (o.kind == "adamw")
    return std::make_unique<optim::AdamW>(
        std::move(params),
        optim::AdamWOptions{
            .lr = o.lr, .betas = {o.betas[0], o.betas[1]}, .eps = o.eps, .weight_decay = o.weight_decay});
  if (o.kind == "adagrad")
    return std::make_unique<optim::Adagrad>(
        std::move(params), optim::AdagradOptions{.lr = o.lr, .weight_decay = o.weight_decay, .eps = o.eps});
  fail("optim.kind: unknown optimiser \"{}\"; choose one of: sgd, adam, adamw, adagrad", o.kind);
}

std::unique_ptr<optim::LRScheduler> build_schedule(const ScheduleRecipe& s, double lr, int64_t epochs,
                                                   int64_t steps_per_epoch) {
  const int64_t total = std::max<int64_t>(1, epochs * steps_per_epoch);
  if (s.kind == "none") return nullptr;
  if (s.kind == "step")
    return std::make_unique<optim::StepLR>(lr, std::max<int64_t>(1, s.step_epochs * steps_per_epoch), s.gamma);
  if (s.kind == "cosine") {
    const auto warmup = static_cast<int64_t>(std::llround(s.warmup_epochs * static_cast<double>(steps_per_epoch)));
    return std::make_unique<optim::CosineWithWarmup>(lr, std::min(warmup, total - 1), total, s.min_lr);
  }
  if (s.kind == "onecycle")
    return std::make_unique<optim::OneCycle>(lr, total, s.pct_start, s.div_factor, s.final_div_factor);
  fail("schedule.kind: unknown schedule \"{}\"; choose one of: none, step, cosine, onecycle", s.kind);
}

data::Transform eval_transform(const Recipe& recipe) {
  if (recipe.data.mean.empty()) return {};
  return data::Normalize(to_floats(recipe.data.mean), to_floats(recipe.data.std));
}

data::Transform train_transform(const Recipe& recipe) {
  std::vector<data::Transform> steps;
  const AugmentRecipe& a = recipe.augment;
  if (a.crop_padding > 0)
    steps.emplace_back(data::RandomCrop(recipe.model.input[1], recipe.model.input[2], a.crop_padding));
  if (a.flip) steps.emplace_back(data::RandomHorizontalFlip());
  if (data::Transform normalize = eval_transform(recipe)) steps.push_back(std::move(normalize));
  // Erasing after normalisation, as torchvision recipes do, so erased pixels are the mean (0).
  if (a.erasing > 0) steps.emplace_back(data::RandomErasing(a.erasing));
  if (steps.empty()) return {};
  if (steps.size() == 1) return steps.front();
  return data::Compose(std::move(steps));
}

namespace {

RecipeData load_splits(const Recipe& recipe) {
  if (recipe.data.dataset == "fashion-mnist") {
    auto [train, test] = recipe.data.dir.empty() ? data::fashion_mnist() : data::fashion_mnist(recipe.data.dir);
    return {std::move(train), std::move(test)};
  }
  return {image_folder_split(recipe, "train"), image_folder_split(recipe, "test")};
}

}  // namespace

RecipeData load_data(const Recipe& recipe) {
  RecipeData splits = load_splits(recipe);
  RecipeData out{limit(splits.train, recipe.data.limit_train), limit(splits.test, recipe.data.limit_test)};
  check_matches_model(out.train, recipe, "training");
  check_matches_model(out.test, recipe, "test");
  return out;
}

data::TensorDataset load_test_data(const Recipe& recipe) {
  data::TensorDataset test =
      recipe.data.dataset == "fashion-mnist" ? load_splits(recipe).test : image_folder_split(recipe, "test");
  test = limit(test, recipe.data.limit_test);
  check_matches_model(test, recipe, "test");
  return test;
}

std::vector<std::string> class_names(const Recipe& recipe) {
  if (recipe.data.dataset == "fashion-mnist")
    return {data::kFashionMnistClasses.begin(), data::kFashionMnistClasses.end()};
  if (!recipe.data.class_names.empty()) return recipe.data.class_names;
  std::vector<std::string> names;
  for (int64_t c = 0; c < recipe.model.classes; ++c) names.push_back(fmt::format("class {}", c));
  return names;
}

}  // namespace dendrite::cli
