// Range and choice checks on a resolved recipe (after command-line overrides), so that a typo such as
// kind = "sgdd" is reported against the recipe, before any data is read or any model is built.
#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <string_view>

#include "dendrite/cli/recipe.h"
#include "dendrite/cli/g2p.h"
#include "dendrite/core/error.h"

namespace dendrite::cli {
namespace {

class Checker {
 public:
  explicit Checker(const std::string& source) : where_(fmt::format("recipe {}", source)) {}

  void choice(std::string_view key, const std::string& value, std::initializer_list<std::string_view> choices) const {
    if (std::find(choices.begin(), choices.end(), value) != choices.end()) return;
    fail("{}: key '{}' is \"{}\"; choose one of: {}", where_, key, value, fmt::join(choices, ", "));
  }
  template <typename T>
  void at_least(std::string_view key, T value, T low) const {
    DENDRITE_CHECK(value >= low, "{}: key '{}' must be >= {}, got {}", where_, key, low, value);
  }
  // low <= value <= high
  void between(std::string_view key, int64_t value, int64_t low, int64_t high) const {
    DENDRITE_CHECK(value >= low && value <= high, "{}: key '{}' must be in [{}, {}], got {}", where_, key, low, high,
                   value);
  }
  void positive(std::string_view key, double value) const {
    DENDRITE_CHECK(value > 0, "{}: key '{}' must be > 0, got {}", where_, key, value);
  }
  // low <= value < high
  void in_range(std::string_view key, double value, double low, double high) const {
    DENDRITE_CHECK(value >= low && value < high, "{}: key '{}' must be in [{}, {}), got {}", where_, key, low, high,
                   value);
  }
  void require(bool ok, std::string_view key, std::string_view what) const {
    DENDRITE_CHECK(ok, "{}: key '{}' {}", where_, key, what);
  }
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

void check_model(const Checker& c, const ModelRecipe& m) {
  c.choice("model.architecture", m.architecture, {"mlp", "cnn", "g2p-lstm", "g2p-transformer"});
  c.require(m.input.size() == 3 &&
                std::all_of(m.input.begin(), m.input.end(), [](int64_t v) { return v > 0 && v <= kMaxRecipeWidth; }),
            "model.input",
            fmt::format("must be three sizes in [1, {}] [channels, height, width], got [{}]", kMaxRecipeWidth,
                        fmt::join(m.input, ", ")));
  c.between("model.classes", m.classes, 2, kMaxRecipeWidth);
  for (int64_t h : m.hidden) c.between("model.hidden", h, 1, kMaxRecipeWidth);
  c.require(m.hidden.size() <= kMaxRecipeLayers, "model.hidden",
            fmt::format("may name at most {} layers, got {}", kMaxRecipeLayers, m.hidden.size()));
  for (int64_t ch : m.channels) c.between("model.channels", ch, 1, kMaxRecipeWidth);
  c.require(m.architecture != "cnn" || !m.channels.empty(), "model.channels", "must name at least one stage for cnn");
  c.require(m.channels.size() <= kMaxRecipeLayers, "model.channels",
            fmt::format("may name at most {} stages, got {}", kMaxRecipeLayers, m.channels.size()));
  c.between("model.convs", m.convs, 1, kMaxRecipeLayers);
  c.in_range("model.dropout", m.dropout, 0.0, 1.0);
  c.choice("model.activation", m.activation, {"relu", "gelu", "tanh", "sigmoid"});
}

void check_optim(const Checker& c, const OptimRecipe& o) {
  c.choice("optim.kind", o.kind, {"sgd", "adam", "adamw", "adagrad"});
  c.positive("optim.lr", o.lr);
  c.in_range("optim.momentum", o.momentum, 0.0, 1.0);
  c.require(!o.nesterov || (o.kind == "sgd" && o.momentum > 0), "optim.nesterov",
            "needs optim.kind = \"sgd\" and optim.momentum > 0");
  c.at_least("optim.weight_decay", o.weight_decay, 0.0);
  c.require(o.betas.size() == 2, "optim.betas", fmt::format("must hold two numbers, got {}", o.betas.size()));
  for (double b : o.betas) c.in_range("optim.betas", b, 0.0, 1.0);
  c.positive("optim.eps", o.eps);
  c.at_least("optim.clip_grad_norm", o.clip_grad_norm, 0.0);
}

void check_schedule(const Checker& c, const ScheduleRecipe& s) {
  c.choice("schedule.kind", s.kind, {"none", "step", "cosine", "onecycle"});
  c.at_least("schedule.warmup_epochs", s.warmup_epochs, 0.0);
  c.at_least("schedule.min_lr", s.min_lr, 0.0);
  c.at_least<int64_t>("schedule.step_epochs", s.step_epochs, 1);
  c.positive("schedule.gamma", s.gamma);
  c.require(s.pct_start > 0 && s.pct_start < 1, "schedule.pct_start",
            fmt::format("must be in (0, 1), got {}", s.pct_start));
  c.positive("schedule.div_factor", s.div_factor);
  c.positive("schedule.final_div_factor", s.final_div_factor);
}

void check_data(const Checker& c, const DataRecipe& d, const ModelRecipe& m) {
  c.choice("data.dataset", d.dataset, {"fashion-mnist", "image-folder", "cmudict"});
  c.require(d.dataset != "image-folder" || !d.dir.empty(), "data.dir",
            "must name the image folder (it holds train/ and test/)");
  if (d.dataset == "fashion-mnist") {
    c.require(m.classes == 10, "model.classes", fmt::format("must be 10 for fashion-mnist, got {}", m.classes));
    c.require(m.input == std::vector<int64_t>{1, 28, 28}, "model.input",
              fmt::format("must be [1, 28, 28] for fashion-mnist, got [{}]", fmt::join(m.input, ", ")));
  }
  c.require(d.mean.size() == d.std.size(), "data.std",
            fmt::format("must have as many values as data.mean ({}), got {}", d.mean.size(), d.std.size()));
  const size_t channels = m.input.empty() ? 0 : static_cast<size_t>(m.input[0]);
  c.require(d.mean.size() <= 1 || d.mean.size() == channels, "data.mean",
            fmt::format("must hold one value or one per channel ({}), got {}", channels, d.mean.size()));
  for (double s : d.std) c.positive("data.std", s);
  c.at_least<int64_t>("data.limit_train", d.limit_train, 0);
  c.at_least<int64_t>("data.limit_test", d.limit_test, 0);
  c.require(d.class_names.empty() || static_cast<int64_t>(d.class_names.size()) == m.classes, "data.class_names",
            fmt::format("must name all {} classes (model.classes), got {}", m.classes, d.class_names.size()));
}

void check_augment(const Checker& c, const AugmentRecipe& a) {
  c.at_least<int64_t>("augment.crop_padding", a.crop_padding, 0);
  c.require(a.erasing >= 0 && a.erasing <= 1, "augment.erasing", fmt::format("must be in [0, 1], got {}", a.erasing));
}

// The model, data and decode keys of the sequence architectures (nothing for the others).
void check_seq2seq(const Checker& c, const Recipe& r) {
  const ModelRecipe& m = r.model;
  const bool seq = is_seq2seq_architecture(m.architecture);
  // The dataset and the architecture come in pairs.
  DENDRITE_CHECK(seq == (r.data.dataset == "cmudict"),
                 "{}: model.architecture \"{}\" cannot train on data.dataset \"{}\"{}", c.where(), m.architecture,
                 r.data.dataset,
                 seq ? fmt::format(" ({} needs \"cmudict\")", m.architecture)
                     : std::string(" (cmudict needs model.architecture = \"g2p-lstm\" or \"g2p-transformer\")"));
  if (!seq) return;
  c.between("model.encoder_layers", m.encoder_layers, 1, kMaxRecipeLayers);
  c.between("model.max_length", m.max_length, 1, kMaxRecipeWidth);
  if (m.architecture == "g2p-lstm") {
    c.between("model.embed", m.embed, 1, kMaxRecipeWidth);
    c.between("model.encoder_hidden", m.encoder_hidden, 1, kMaxRecipeWidth);
    c.between("model.decoder_hidden", m.decoder_hidden, 1, kMaxRecipeWidth);
    c.between("model.decoder_lstm_layers", m.decoder_lstm_layers, 1, kMaxRecipeLayers);
    c.choice("model.attention", m.attention, {"additive", "dot"});
  } else {
    c.between("model.d_model", m.d_model, 1, kMaxRecipeWidth);
    c.between("model.heads", m.heads, 1, kMaxRecipeWidth);
    c.between("model.feedforward", m.feedforward, 1, kMaxRecipeWidth);
    c.between("model.decoder_layers", m.decoder_layers, 1, kMaxRecipeLayers);
    c.require(m.d_model % m.heads == 0, "model.d_model",
              fmt::format("({}) must be a multiple of model.heads ({}): each head gets d_model / heads dimensions",
                          m.d_model, m.heads));
    c.choice("model.positions", m.positions, {"sinusoidal", "learned"});
  }
  c.at_least<int64_t>("decode.beam", r.decode.beam, 1);
  c.require(r.decode.nbest >= 1 && r.decode.nbest <= r.decode.beam, "decode.nbest",
            fmt::format("must be in [1, decode.beam = {}], got {}", r.decode.beam, r.decode.nbest));
  c.at_least("decode.length_penalty", r.decode.length_penalty, 0.0);
}

void check_train(const Checker& c, const TrainRecipe& t) {
  c.at_least<int64_t>("train.epochs", t.epochs, 1);
  c.at_least<int64_t>("train.batch", t.batch, 1);
  c.at_least<int64_t>("train.eval_batch", t.eval_batch, 1);
  c.at_least<int64_t>("train.threads", t.threads, 0);
  if (!t.precision.empty()) c.choice("train.precision", t.precision, {"f32", "bf16"});
  c.at_least<int64_t>("train.seed", t.seed, 0);
  c.in_range("train.label_smoothing", t.label_smoothing, 0.0, 1.0);
  c.at_least<int64_t>("train.log_every", t.log_every, 0);
  c.at_least<int64_t>("train.checkpoint_every", t.checkpoint_every, 0);
}

}  // namespace

void validate_recipe(const Recipe& recipe, const std::string& source) {
  const Checker c(source);
  c.require(!recipe.name.empty() && recipe.name.find('/') == std::string::npos, "name",
            fmt::format("must be a non-empty name without '/', got \"{}\"", recipe.name));
  check_model(c, recipe.model);
  check_optim(c, recipe.optim);
  check_schedule(c, recipe.schedule);
  check_data(c, recipe.data, recipe.model);
  check_augment(c, recipe.augment);
  check_train(c, recipe.train);
  check_seq2seq(c, recipe);
}

}  // namespace dendrite::cli
