// Model builders: a recipe's [model] section as an nn::Sequential.
//
//   mlp   Flatten, then Linear -> activation (-> Dropout) for each width in `hidden`, then Linear to
//         `classes`: hidden = [512, 512] on [1, 28, 28] gives 784-512-512-10.
//   cnn   for each entry c of `channels` a stage of `convs` 3x3 convolutions (padding 1) to c channels,
//         each followed by BatchNorm2d (when batch_norm) and the activation, then a 2x2 max pool;
//         then Flatten (-> Dropout), the `hidden` linear layers and a Linear to `classes`.
//
// Parameters are initialised from default_generator(): seed it first for a reproducible model.
#pragma once

#include <memory>

#include "dendrite/cli/recipe.h"
#include "dendrite/nn/sequential.h"

namespace dendrite::cli {

// Expects a validated recipe; throws naming the recipe key when the input is too small for the
// architecture (e.g. more pooling stages than the image has pixels).
std::shared_ptr<nn::Sequential> build_model(const ModelRecipe& model);

}  // namespace dendrite::cli
