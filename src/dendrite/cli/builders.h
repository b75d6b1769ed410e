// Builders for the rest of a run: the optimiser, the learning-rate schedule, the data sets and the
// loaders' transforms, each from its recipe section.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dendrite/cli/recipe.h"
#include "dendrite/data/dataset.h"
#include "dendrite/data/transforms.h"
#include "dendrite/nn/module.h"
#include "dendrite/optim/optimizer.h"
#include "dendrite/optim/schedule.h"

namespace dendrite::cli {

std::unique_ptr<optim::Optimizer> build_optimizer(const OptimRecipe& optim, nn::NamedTensors params);

// The schedule over `epochs` epochs of `steps_per_epoch` steps, or null for schedule.kind = "none".
std::unique_ptr<optim::LRScheduler> build_schedule(const ScheduleRecipe& schedule, double lr, int64_t epochs,
                                                   int64_t steps_per_epoch);

// Training batches: the recipe's augmentation, then normalisation. Empty when there is neither.
data::Transform train_transform(const Recipe& recipe);
// Evaluation and prediction batches: normalisation only. Empty without it.
data::Transform eval_transform(const Recipe& recipe);

struct RecipeData {
  data::TensorDataset train;
  data::TensorDataset test;
};

// The recipe's data sets, cut to data.limit_train / data.limit_test, checked against model.input
// and model.classes (an Error naming the recipe keys and the data's shape when they disagree).
RecipeData load_data(const Recipe& recipe);
// Only the test split (what `dendrite eval` needs).
data::TensorDataset load_test_data(const Recipe& recipe);

// The name of each class: Fashion-MNIST's, data.class_names, or "class N".
std::vector<std::string> class_names(const Recipe& recipe);

}  // namespace dendrite::cli
