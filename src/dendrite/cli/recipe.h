// Recipes: a whole training run described in a TOML file that people copy and edit instead of
// writing C++ (recipes/*.toml). Every key has a default, so a recipe names only what it changes:
//
//   description = "784-512-512-10 MLP"
//   [model]
//   architecture = "mlp"
//   hidden = [512, 512]
//   [optim]
//   lr = 0.05
//
// The schema is strict: an unknown key, or a value of the wrong type, is an Error naming the key,
// its line and the recipe file, and listing the valid keys. Command-line flags override keys after
// parsing (the plain fields below, or set_recipe_key for any "section.key=value"); validate_recipe
// then checks ranges and choices. to_toml writes the resolved recipe back as a recipe, which a run
// keeps as its config.toml: `dendrite train runs/x/config.toml --out runs/y` repeats the run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "dendrite/kernels/precision.h"

namespace dendrite::cli {

// Upper bounds of a recipe's model sizes, far beyond any model these recipes train: without them a
// typo in a width fails only later, as an allocation of terabytes that names no key.
inline constexpr int64_t kMaxRecipeWidth = 65536;  // a layer's width, a channel count, an input side
inline constexpr int64_t kMaxRecipeLayers = 64;

struct ModelRecipe {
  std::string architecture = "mlp";          // "mlp" or "cnn" (models.h), "g2p-lstm" or "g2p-transformer" (g2p.h)
  std::vector<int64_t> input = {1, 28, 28};  // [channels, height, width] of one example
  int64_t classes = 10;
  std::vector<int64_t> hidden = {512, 512};  // mlp: hidden widths; cnn: linear layers after the convolutions
  std::vector<int64_t> channels = {32, 64};  // cnn: channels of each stage (convs 3x3 convolutions, 2x2 max pool)
  int64_t convs = 2;                         // cnn: 3x3 convolutions per stage
  bool batch_norm = true;                    // cnn: BatchNorm2d after each convolution
  double dropout = 0.0;                      // before each linear layer
  std::string activation = "relu";           // relu, gelu, tanh, sigmoid
  // Sequence-to-sequence architectures (g2p-lstm, g2p-transformer, cli/g2p.h):
  int64_t embed = 64;                    // g2p-lstm: token embedding width
  int64_t encoder_hidden = 128;          // g2p-lstm: per direction of the bidirectional LSTM encoder
  int64_t encoder_layers = 1;            // both: encoder layers
  int64_t decoder_hidden = 256;          // g2p-lstm
  // g2p-lstm: stacked decoder cells. Not decoder_layers: every g2p-lstm run's config.toml records
  // that key with the Transformer's default (3), so reusing it would change what old runs build.
  int64_t decoder_lstm_layers = 1;
  std::string attention = "additive";    // g2p-lstm: additive (Bahdanau) or dot (Luong)
  int64_t max_length = 40;               // both: the longest source (word) the model accepts
  int64_t d_model = 256;                 // g2p-transformer: model width (embeddings, every layer)
  int64_t heads = 4;                     // g2p-transformer: attention heads (d_model must be a multiple)
  int64_t feedforward = 1024;            // g2p-transformer: the feed-forward sublayer's inner width
  int64_t decoder_layers = 3;            // g2p-transformer
  std::string positions = "sinusoidal";  // g2p-transformer: sinusoidal or learned

  bool operator==(const ModelRecipe&) const = default;
};

struct OptimRecipe {
  std::string kind = "sgd";  // sgd, adam, adamw, adagrad
  double lr = 0.05;
  double momentum = 0.0;  // sgd
  bool nesterov = false;  // sgd, needs momentum > 0
  double weight_decay = 0.0;
  std::vector<double> betas = {0.9, 0.999};  // adam, adamw
  double eps = 1e-8;                         // adam, adamw, adagrad
  double clip_grad_norm = 0.0;               // global L2 bound on the gradients; 0: none

  bool operator==(const OptimRecipe&) const = default;
};

struct ScheduleRecipe {
  std::string kind = "none";      // none, step, cosine, onecycle
  double warmup_epochs = 0.0;     // cosine: linear warm-up (may be a fraction of an epoch)
  double min_lr = 0.0;            // cosine: the final learning rate
  int64_t step_epochs = 5;        // step: epochs between decays
  double gamma = 0.1;             // step: the decay factor
  double pct_start = 0.3;         // onecycle: fraction of the run spent rising to optim.lr
  double div_factor = 25.0;       // onecycle: starts at lr / div_factor
  double final_div_factor = 1e4;  // onecycle: ends at lr / div_factor / final_div_factor

  bool operator==(const ScheduleRecipe&) const = default;
};

struct DataRecipe {
  std::string dataset = "fashion-mnist";  // "fashion-mnist", "image-folder" or "cmudict"
  // fashion-mnist: the directory of the four IDX files ("" for the Debian package's); image-folder:
  // a directory holding train/ and test/, each a directory of PNGs with a labels.csv.
  std::string dir = "";
  std::vector<double> mean = {};  // per-channel normalisation (one value, or one per channel); none if empty
  std::vector<double> std = {};
  int64_t limit_train = 0;                    // train on the first N examples only; 0: all
  int64_t limit_test = 0;                     // evaluate on the first N examples only; 0: all
  std::vector<std::string> class_names = {};  // image-folder: names for predict; "class N" otherwise
  bool strip_stress = false;                  // cmudict: drop the vowels' stress digits
  // cmudict: learn to write each pronunciation last phoneme first (a right-to-left model, for
  // rescoring a left-to-right one's n-best; docs/sequence.md)
  bool reverse_target = false;

  bool operator==(const DataRecipe&) const = default;
};

struct AugmentRecipe {
  int64_t crop_padding = 0;  // random crop of the input size after zero-padding each side; 0: none
  bool flip = false;         // random horizontal flip with probability 0.5
  double erasing = 0.0;      // random erasing probability; 0: none

  bool operator==(const AugmentRecipe&) const = default;
};

struct TrainRecipe {
  int64_t epochs = 10;
  int64_t batch = 128;
  int64_t eval_batch = 1000;
  int64_t threads = 0;  // 0: every core
  std::string precision = "";  // matrix products: "f32" or "bf16"; "": DENDRITE_PRECISION, else f32
  int64_t seed = 1;
  std::string out = "";  // the run directory; "" for runs/<name> (or runs/<name>-2, ... when taken)
  double label_smoothing = 0.0;
  int64_t log_every = 50;        // steps between "train" records in metrics.jsonl
  int64_t checkpoint_every = 0;  // steps between mid-epoch checkpoints; 0: at the end of each epoch
  double target_accuracy = 0.0;  // summary.json records when test accuracy first reaches it; 0: none
  int64_t eval_every_steps = 0;  // also evaluate every N steps (for target_accuracy); 0: epoch ends only

  bool operator==(const TrainRecipe&) const = default;
};

// The recipe's train.precision, or the process-wide setting (DENDRITE_PRECISION) when it is "".
kernels::MathPrecision math_precision_of(const TrainRecipe& train);

struct DecodeRecipe {
  int64_t beam = 5;             // beam width for sequence outputs; 1: greedy
  int64_t nbest = 1;            // hypotheses `dendrite predict` shows
  double length_penalty = 1.0;  // alpha of the length normalisation ((5 + L) / 6)^alpha

  bool operator==(const DecodeRecipe&) const = default;
};

struct Recipe {
  std::string name = "";  // defaults to the file's stem
  std::string description = "";
  ModelRecipe model;
  OptimRecipe optim;
  ScheduleRecipe schedule;
  DataRecipe data;
  AugmentRecipe augment;
  TrainRecipe train;
  DecodeRecipe decode;

  bool operator==(const Recipe&) const = default;
};

// Parses a recipe file; `name` defaults to the file's stem. Syntax errors name the file, line and
// column.
Recipe parse_recipe_file(const std::filesystem::path& path);
// Parses recipe text; `source` names it in errors.
Recipe parse_recipe(std::string_view text, const std::string& source, const std::string& default_name = "");

// Applies "section.key=value" (the value in TOML syntax; a bare word is taken as a string, so
// data.dir=/tmp/x needs no quotes). Errors name the assignment and list the valid keys.
void set_recipe_key(Recipe& recipe, std::string_view assignment);

// Checks ranges and choices (e.g. optim.kind is one of sgd, adam, adamw, adagrad); errors name the
// key and `source`.
void validate_recipe(const Recipe& recipe, const std::string& source);

// Every key as "section.key" (top-level keys bare), in schema order.
std::vector<std::string> recipe_keys();

// The recipe as TOML, every key written (so the file records the defaults of the day), each with
// its meaning as a comment. parse_recipe(to_toml(r)) == r.
std::string to_toml(const Recipe& recipe);

}  // namespace dendrite::cli
