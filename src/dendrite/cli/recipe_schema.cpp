#include "dendrite/cli/recipe_schema.h"

#include <fmt/format.h>

#include <array>

namespace dendrite::cli::schema {
namespace {

// A key of section `S` of the recipe, stored in member `field` of that section's struct.
template <typename S, typename T>
Key key(std::string_view section, std::string_view name, S Recipe::*part, T S::*field, std::string_view help) {
  return {section, name, help, [part, field](Recipe& r) -> FieldRef { return &((r.*part).*field); }};
}

template <typename T>
Key top(std::string_view name, T Recipe::*field, std::string_view help) {
  return {"", name, help, [field](Recipe& r) -> FieldRef { return &(r.*field); }};
}

using R = Recipe;
using M = ModelRecipe;
using O = OptimRecipe;
using S = ScheduleRecipe;
using D = DataRecipe;
using A = AugmentRecipe;
using T = TrainRecipe;
using E = DecodeRecipe;

const std::vector<Key>& table() {
  static const std::vector<Key> keys = {
      top("name", &R::name, "the run's name (defaults to the recipe file's name)"),
      top("description", &R::description, "one line shown by `dendrite recipes`"),

      key("model", "architecture", &R::model, &M::architecture, "mlp, cnn, g2p-lstm or g2p-transformer"),
      key("model", "input", &R::model, &M::input, "[channels, height, width] of one example"),
      key("model", "classes", &R::model, &M::classes, "number of classes"),
      key("model", "hidden", &R::model, &M::hidden,
          "mlp: hidden layer widths; cnn: widths of the linear layers after the convolutions"),
      key("model", "channels", &R::model, &M::channels,
          "cnn: channels of each stage (model.convs 3x3 convolutions, then a 2x2 max pool)"),
      key("model", "convs", &R::model, &M::convs, "cnn: 3x3 convolutions per stage"),
      key("model", "batch_norm", &R::model, &M::batch_norm, "cnn: batch norm after each convolution"),
      key("model", "dropout", &R::model, &M::dropout, "dropout probability before each linear layer"),
      key("model", "activation", &R::model, &M::activation, "relu, gelu, tanh or sigmoid"),
      key("model", "embed", &R::model, &M::embed, "g2p-lstm: token embedding width"),
      key("model", "encoder_hidden", &R::model, &M::encoder_hidden, "g2p-lstm: encoder LSTM width per direction"),
      key("model", "encoder_layers", &R::model, &M::encoder_layers,
          "g2p-lstm: bidirectional LSTM layers; g2p-transformer: encoder layers"),
      key("model", "decoder_hidden", &R::model, &M::decoder_hidden, "g2p-lstm: decoder LSTM width"),
      key("model", "decoder_lstm_layers", &R::model, &M::decoder_lstm_layers,
          "g2p-lstm: stacked decoder LSTM cells (attention reads the top one)"),
      key("model", "attention", &R::model, &M::attention, "g2p-lstm: additive (Bahdanau) or dot (Luong)"),
      key("model", "max_length", &R::model, &M::max_length, "g2p-*: the longest word accepted"),
      key("model", "d_model", &R::model, &M::d_model, "g2p-transformer: model width"),
      key("model", "heads", &R::model, &M::heads, "g2p-transformer: attention heads (d_model must be a multiple)"),
      key("model", "feedforward", &R::model, &M::feedforward, "g2p-transformer: feed-forward inner width"),
      key("model", "decoder_layers", &R::model, &M::decoder_layers, "g2p-transformer: decoder layers"),
      key("model", "positions", &R::model, &M::positions, "g2p-transformer: sinusoidal or learned positions"),

      key("optim", "kind", &R::optim, &O::kind, "sgd, adam, adamw or adagrad"),
      key("optim", "lr", &R::optim, &O::lr, "learning rate (the peak rate under a schedule)"),
      key("optim", "momentum", &R::optim, &O::momentum, "sgd: momentum"),
      key("optim", "nesterov", &R::optim, &O::nesterov, "sgd: Nesterov momentum (needs momentum > 0)"),
      key("optim", "weight_decay", &R::optim, &O::weight_decay, "L2 penalty (decoupled for adamw)"),
      key("optim", "betas", &R::optim, &O::betas, "adam, adamw: [beta1, beta2]"),
      key("optim", "eps", &R::optim, &O::eps, "adam, adamw, adagrad: denominator term"),
      key("optim", "clip_grad_norm", &R::optim, &O::clip_grad_norm, "bound on the gradients' global L2 norm; 0: none"),

      key("schedule", "kind", &R::schedule, &S::kind, "none, step, cosine or onecycle"),
      key("schedule", "warmup_epochs", &R::schedule, &S::warmup_epochs, "cosine: linear warm-up length in epochs"),
      key("schedule", "min_lr", &R::schedule, &S::min_lr, "cosine: final learning rate"),
      key("schedule", "step_epochs", &R::schedule, &S::step_epochs, "step: epochs between decays"),
      key("schedule", "gamma", &R::schedule, &S::gamma, "step: decay factor"),
      key("schedule", "pct_start", &R::schedule, &S::pct_start, "onecycle: fraction of the run rising to optim.lr"),
      key("schedule", "div_factor", &R::schedule, &S::div_factor, "onecycle: starts at lr / div_factor"),
      key("schedule", "final_div_factor", &R::schedule, &S::final_div_factor,
          "onecycle: ends at lr / div_factor / final_div_factor"),

      key("data", "dataset", &R::data, &D::dataset, "fashion-mnist, image-folder or cmudict"),
      key("data", "dir", &R::data, &D::dir,
          "fashion-mnist: the IDX files' directory (\"\": the Debian package's); image-folder: holds train/ and "
          "test/, each PNGs + labels.csv; cmudict: the dict.txt file (\"\": the npm package's under third_party/)"),
      key("data", "mean", &R::data, &D::mean, "per-channel normalisation mean; [] for none"),
      key("data", "std", &R::data, &D::std, "per-channel normalisation standard deviation"),
      key("data", "limit_train", &R::data, &D::limit_train, "train on the first N examples only; 0: all"),
      key("data", "limit_test", &R::data, &D::limit_test, "evaluate on the first N examples only; 0: all"),
      key("data", "class_names", &R::data, &D::class_names, "image-folder: class names for `dendrite predict`"),
      key("data", "strip_stress", &R::data, &D::strip_stress, "cmudict: drop the vowels' stress digits"),
      key("data", "reverse_target", &R::data, &D::reverse_target,
          "cmudict: write pronunciations last phoneme first (a right-to-left model for --rescore)"),

      key("augment", "crop_padding", &R::augment, &A::crop_padding, "random crop after zero-padding by N; 0: none"),
      key("augment", "flip", &R::augment, &A::flip, "random horizontal flip"),
      key("augment", "erasing", &R::augment, &A::erasing, "random erasing probability; 0: none"),

      key("train", "epochs", &R::train, &T::epochs, "passes over the training set"),
      key("train", "batch", &R::train, &T::batch, "training batch size"),
      key("train", "eval_batch", &R::train, &T::eval_batch, "evaluation batch size"),
      key("train", "threads", &R::train, &T::threads, "compute threads; 0: every core"),
      key("train", "precision", &R::train, &T::precision,
          "matrix products and convolutions: f32, or bf16 inputs with f32 accumulation (docs/performance.md); "
          "\"\": DENDRITE_PRECISION, else f32"),
      key("train", "seed", &R::train, &T::seed, "seeds initialisation, shuffling, augmentation and dropout"),
      key("train", "out", &R::train, &T::out, "run directory; \"\": runs/<name>"),
      key("train", "label_smoothing", &R::train, &T::label_smoothing, "cross-entropy label smoothing"),
      key("train", "log_every", &R::train, &T::log_every, "steps between metrics.jsonl records"),
      key("train", "checkpoint_every", &R::train, &T::checkpoint_every,
          "steps between mid-epoch checkpoints; 0: each epoch's end"),
      key("train", "target_accuracy", &R::train, &T::target_accuracy,
          "summary.json records the time and samples when test accuracy first reaches it; 0: none"),
      key("train", "eval_every_steps", &R::train, &T::eval_every_steps,
          "also evaluate on the test set every N steps (finer time-to-accuracy); 0: at epoch ends only"),

      key("decode", "beam", &R::decode, &E::beam, "sequence outputs: beam width (1: greedy)"),
      key("decode", "nbest", &R::decode, &E::nbest, "sequence outputs: hypotheses shown by `dendrite predict`"),
      key("decode", "length_penalty", &R::decode, &E::length_penalty,
          "sequence outputs: alpha of the length normalisation ((5 + L) / 6)^alpha"),
  };
  return keys;
}

constexpr std::array<std::string_view, 8> kSections = {"",     "model",   "optim", "schedule",
                                                       "data", "augment", "train", "decode"};

}  // namespace

std::string Key::dotted() const { return section.empty() ? std::string(name) : fmt::format("{}.{}", section, name); }

std::span<const Key> keys() { return table(); }
std::span<const std::string_view> sections() { return kSections; }

const Key* find(std::string_view section, std::string_view name) {
  for (const Key& k : table())
    if (k.section == section && k.name == name) return &k;
  return nullptr;
}

std::string_view type_name(const FieldRef& ref) {
  static constexpr std::array<std::string_view, 7> names = {
      "an integer",          "a number",           "true or false", "a string", "an array of integers",
      "an array of numbers", "an array of strings"};
  return names[ref.index()];
}

std::string valid_keys_message() {
  std::vector<std::string> all;
  for (const Key& k : table()) all.push_back(k.dotted());
  return fmt::format("valid keys: {}", fmt::join(all, ", "));
}

std::string valid_keys_message(std::string_view section) {
  std::vector<std::string> in_section;
  for (const Key& k : table())
    if (k.section == section) in_section.push_back(k.dotted());
  if (in_section.empty()) return valid_keys_message();
  return fmt::format("valid keys in [{}]: {}", section, fmt::join(in_section, ", "));
}

}  // namespace dendrite::cli::schema
