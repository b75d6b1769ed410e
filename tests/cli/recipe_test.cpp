// Recipes: the strict TOML schema, its error messages, overrides, validation and round trips.
#include "dendrite/cli/recipe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "data/test_files.h"
#include "dendrite/cli/recipe_files.h"
#include "dendrite/core/error.h"
#include "support/corrupt.h"
#include "support/errors.h"

namespace dendrite::cli {
namespace {

using test_support::error_of;
using ::testing::HasSubstr;

constexpr const char* kValid = R"(
description = "a test recipe"
[model]
architecture = "cnn"
channels = [8, 16]
hidden = []
dropout = 0.25
[optim]
kind = "adamw"
lr = 1          # an integer where a number is expected is fine
betas = [0.9, 0.99]
[schedule]
kind = "onecycle"
[augment]
crop_padding = 2
flip = true
[train]
epochs = 3
batch = 32
)";

TEST(Recipe, ParsesEveryKindOfValueAndKeepsDefaults) {
  const Recipe r = parse_recipe(kValid, "test.toml", "test");
  EXPECT_EQ(r.name, "test");
  EXPECT_EQ(r.description, "a test recipe");
  EXPECT_EQ(r.model.architecture, "cnn");
  EXPECT_EQ(r.model.channels, (std::vector<int64_t>{8, 16}));
  EXPECT_TRUE(r.model.hidden.empty());
  EXPECT_DOUBLE_EQ(r.model.dropout, 0.25);
  EXPECT_EQ(r.optim.kind, "adamw");
  EXPECT_DOUBLE_EQ(r.optim.lr, 1.0);
  EXPECT_EQ(r.optim.betas, (std::vector<double>{0.9, 0.99}));
  EXPECT_EQ(r.schedule.kind, "onecycle");
  EXPECT_EQ(r.augment.crop_padding, 2);
  EXPECT_TRUE(r.augment.flip);
  EXPECT_EQ(r.train.epochs, 3);
  EXPECT_EQ(r.train.batch, 32);
  EXPECT_EQ(r.train.eval_batch, TrainRecipe{}.eval_batch);  // untouched keys keep their defaults
  EXPECT_EQ(r.data.dataset, "fashion-mnist");
  EXPECT_NO_THROW(validate_recipe(r, "test.toml"));
}

TEST(Recipe, UnknownKeyNamesTheKeyTheFileAndTheValidKeys) {
  const std::string msg = error_of([] { parse_recipe("[optim]\nlr = 0.1\nmomentun = 0.9\n", "my.toml"); });
  EXPECT_THAT(msg, HasSubstr("recipe my.toml"));
  EXPECT_THAT(msg, HasSubstr("unknown key 'optim.momentun' (line 3)"));
  EXPECT_THAT(msg, HasSubstr("valid keys in [optim]: optim.kind, optim.lr, optim.momentum, optim.nesterov"));
}

TEST(Recipe, UnknownTopLevelKeyOrSectionListsAllKeys) {
  std::string msg = error_of([] { parse_recipe("epochs = 3\n", "my.toml"); });
  EXPECT_THAT(msg, HasSubstr("recipe my.toml: unknown key 'epochs' (line 1)"));
  EXPECT_THAT(msg, HasSubstr("valid keys: name, description, model.architecture"));
  EXPECT_THAT(msg, HasSubstr("train.epochs"));
  msg = error_of([] { parse_recipe("[optimizer]\nlr = 0.1\n", "my.toml"); });
  EXPECT_THAT(msg, HasSubstr("unknown section 'optimizer'"));
  EXPECT_THAT(msg, HasSubstr("optim.lr"));
  msg = error_of([] { parse_recipe("[model.extra]\nx = 1\n", "my.toml"); });
  EXPECT_THAT(msg, HasSubstr("unknown key 'model.extra'"));
}

TEST(Recipe, WrongTypeNamesTheKeyTheExpectedTypeAndTheValue) {
  std::string msg = error_of([] { parse_recipe("[train]\nepochs = \"ten\"\n", "my.toml"); });
  EXPECT_THAT(msg, HasSubstr("recipe my.toml: key 'train.epochs' (line 2) must be an integer, got a string 'ten'"));
  msg = error_of([] { parse_recipe("[train]\nepochs = 2.5\n", "my.toml"); });
  EXPECT_THAT(msg, HasSubstr("'train.epochs' (line 2) must be an integer, got a floating-point number 2.5"));
  msg = error_of([] { parse_recipe("[model]\nhidden = [512, \"x\"]\n", "my.toml"); });
  EXPECT_THAT(msg, HasSubstr("'model.hidden' (line 2) must be an array of integers"));
  msg = error_of([] { parse_recipe("[augment]\nflip = 1\n", "my.toml"); });
  EXPECT_THAT(msg, HasSubstr("'augment.flip' (line 2) must be true or false, got an integer 1"));
  msg = error_of([] { parse_recipe("model = 3\n", "my.toml"); });
  EXPECT_THAT(msg, HasSubstr("'model' (line 1) must be a table ([model])"));
}

TEST(Recipe, SyntaxErrorNamesFileLineAndColumn) {
  const std::string msg = error_of([] { parse_recipe("[train]\nepochs = = 3\n", "bad.toml"); });
  EXPECT_THAT(msg, HasSubstr("recipe bad.toml:2:"));
}

TEST(Recipe, SetOverridesAnyKeyAndReportsMistakes) {
  Recipe r = parse_recipe(kValid, "test.toml", "test");
  set_recipe_key(r, "optim.momentum=0.95");
  set_recipe_key(r, "model.hidden=[64, 32]");
  set_recipe_key(r, "data.dir=/tmp/some dir");  // a bare value is a string
  set_recipe_key(r, "augment.flip=false");
  set_recipe_key(r, "description=\"quoted\"");
  EXPECT_DOUBLE_EQ(r.optim.momentum, 0.95);
  EXPECT_EQ(r.model.hidden, (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(r.data.dir, "/tmp/some dir");
  EXPECT_FALSE(r.augment.flip);
  EXPECT_EQ(r.description, "quoted");
  EXPECT_THAT(error_of([&] { set_recipe_key(r, "optim.momentun=0.9"); }),
              HasSubstr("--set optim.momentun=0.9: unknown key 'optim.momentun'; valid keys in [optim]"));
  EXPECT_THAT(error_of([&] { set_recipe_key(r, "train.epochs=many"); }),
              HasSubstr("key 'train.epochs' must be an integer, got a string 'many'"));
  EXPECT_THAT(error_of([&] { set_recipe_key(r, "epochs"); }), HasSubstr("expected SECTION.KEY=VALUE"));
}

TEST(Recipe, ValidationNamesKeyAndChoices) {
  Recipe r = parse_recipe(kValid, "test.toml", "test");
  r.optim.kind = "sgdd";
  EXPECT_THAT(error_of([&] { validate_recipe(r, "test.toml"); }),
              HasSubstr("recipe test.toml: key 'optim.kind' is \"sgdd\"; choose one of: sgd, adam, adamw, adagrad"));
  r = parse_recipe(kValid, "test.toml", "test");
  r.train.precision = "fp8";
  EXPECT_THAT(error_of([&] { validate_recipe(r, "test.toml"); }),
              HasSubstr("recipe test.toml: key 'train.precision' is \"fp8\"; choose one of: f32, bf16"));
  r = parse_recipe(kValid, "test.toml", "test");
  r.train.batch = 0;
  EXPECT_THAT(error_of([&] { validate_recipe(r, "test.toml"); }), HasSubstr("key 'train.batch' must be >= 1, got 0"));
  r = parse_recipe(kValid, "test.toml", "test");
  r.optim.nesterov = true;  // adamw has no Nesterov momentum
  EXPECT_THAT(error_of([&] { validate_recipe(r, "test.toml"); }), HasSubstr("optim.nesterov"));
  r = parse_recipe(kValid, "test.toml", "test");
  r.model.input = {3, 32, 32};
  EXPECT_THAT(error_of([&] { validate_recipe(r, "test.toml"); }),
              HasSubstr("key 'model.input' must be [1, 28, 28] for fashion-mnist"));
}

// A typo in a model size is caught against the recipe, not later as a terabyte allocation.
TEST(Recipe, ModelSizesHaveUpperBounds) {
  const Recipe valid = parse_recipe(kValid, "test.toml", "test");
  const auto error_with = [&](auto change) {
    Recipe r = valid;
    change(r.model);
    return error_of([&] { validate_recipe(r, "test.toml"); });
  };
  EXPECT_THAT(error_with([](ModelRecipe& m) {
                m.hidden = {512, 99999999999};
              }),
              HasSubstr("recipe test.toml: key 'model.hidden' must be in [1, 65536], got 99999999999"));
  EXPECT_THAT(error_with([](ModelRecipe& m) { m.hidden = std::vector<int64_t>(65, 8); }),
              HasSubstr("key 'model.hidden' may name at most 64 layers, got 65"));
  EXPECT_THAT(error_with([](ModelRecipe& m) { m.channels = std::vector<int64_t>(65, 8); }),
              HasSubstr("key 'model.channels' may name at most 64 stages, got 65"));
  EXPECT_THAT(error_with([](ModelRecipe& m) {
                m.channels = {32, 0};
              }),
              HasSubstr("key 'model.channels' must be in [1, 65536], got 0"));
  EXPECT_THAT(error_with([](ModelRecipe& m) { m.classes = 1; }),
              HasSubstr("key 'model.classes' must be in [2, 65536], got 1"));
  EXPECT_THAT(error_with([](ModelRecipe& m) { m.convs = 1000; }),
              HasSubstr("key 'model.convs' must be in [1, 64], got 1000"));
  EXPECT_THAT(
      error_with([](ModelRecipe& m) {
        m.input = {1, 28, 1 << 20};
      }),
      HasSubstr("key 'model.input' must be three sizes in [1, 65536] [channels, height, width], got [1, 28, 1048576]"));
}

TEST(Recipe, TomlRoundTripIsExact) {
  Recipe r = parse_recipe(kValid, "test.toml", "test");
  r.optim.lr = 0.1;
  r.optim.eps = 1e-8;
  r.schedule.final_div_factor = 1e4;
  r.data.dir = "a \"quoted\" \\ path";
  r.data.class_names = {"a", "b"};
  const std::string text = to_toml(r);
  EXPECT_THAT(text, HasSubstr("[optim]\n"));
  EXPECT_THAT(text, HasSubstr("lr = 0.1  # "));
  EXPECT_EQ(parse_recipe(text, "config.toml", "ignored"), r);
}

TEST(Recipe, KeysListEverySection) {
  const std::vector<std::string> keys = recipe_keys();
  for (const char* k : {"name", "model.architecture", "optim.betas", "optim.clip_grad_norm", "schedule.kind",
                        "data.limit_train", "augment.erasing", "train.seed"})
    EXPECT_NE(std::find(keys.begin(), keys.end(), k), keys.end()) << k;
}

TEST(RecipeFiles, BuiltInRecipesParseAndValidate) {
  const std::vector<RecipeEntry> entries = list_recipes();
  std::vector<std::string> names;
  for (const RecipeEntry& e : entries) {
    names.push_back(e.name);
    const Recipe r = parse_recipe_file(e.path);
    EXPECT_NO_THROW(validate_recipe(r, e.path.string())) << e.path;
    EXPECT_FALSE(r.description.empty()) << e.path;
  }
  EXPECT_NE(std::find(names.begin(), names.end(), "fashion-mlp"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "fashion-cnn"), names.end());
  const Recipe mlp = parse_recipe_file(resolve_recipe("fashion-mlp"));
  EXPECT_EQ(mlp.name, "fashion-mlp");
  EXPECT_EQ(mlp.model.hidden, (std::vector<int64_t>{512, 512}));
}

TEST(RecipeFiles, ResolveNamesAndPaths) {
  data::files::TempDir dir;
  data::files::write_text(dir / "mine.toml", "description = \"mine\"\n");
  EXPECT_EQ(resolve_recipe("mine", {dir.path()}), dir / "mine.toml");
  EXPECT_EQ(resolve_recipe((dir / "mine.toml").string(), {}), dir / "mine.toml");
  const std::string msg = error_of([&] { resolve_recipe("nope", {dir.path()}); });
  EXPECT_THAT(msg, HasSubstr("unknown recipe 'nope'; built-in recipes: mine (looked in " + dir.path().string()));
  EXPECT_THAT(error_of([&] { resolve_recipe((dir / "missing.toml").string(), {}); }), HasSubstr("no such file"));
  // A recipe that does not parse is listed with the reason instead of hiding the others.
  data::files::write_text(dir / "broken.toml", "[train\n");
  const auto entries = list_recipes({dir.path()});
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].name, "broken");
  EXPECT_THAT(entries[0].description, HasSubstr("cannot be read"));
  EXPECT_EQ(entries[1].description, "mine");
}

// A damaged recipe (or a run's config.toml, read by the same parser) parses and validates, or
// is an Error naming the file: never a crash, whatever the TOML parser meets.
TEST(Recipe, CorruptedRecipesFailWithAnErrorOrParse) {
  const std::string valid = R"(name = "g2p-lstm"
description = "bi-LSTM encoder, attention decoder"
[model]
architecture = "g2p-lstm"
embed = 64
encoder_hidden = 128
decoder_hidden = 256
attention = "additive"
dropout = 0.3
[data]
dataset = "cmudict"
strip_stress = false
[optim]
kind = "adam"
lr = 0.002
clip_grad_norm = 5.0
[schedule]
kind = "cosine"
warmup_epochs = 0.2
[train]
epochs = 36   # a comment
batch = 128
seed = 11
[decode]
beam = 5
nbest = 1
length_penalty = 1.0
)";
  validate_recipe(parse_recipe(valid, "g2p.toml"), "g2p.toml");  // the valid one is valid
  const auto copies = test_support::corruptions(valid, 7, 2000);
  const int rejected = test_support::expect_only_errors(copies, [](const std::string& text) {
    try {
      validate_recipe(parse_recipe(text, "g2p.toml"), "g2p.toml");
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("g2p.toml"));
      throw;
    }
  });
  EXPECT_GT(rejected, 500);
}

}  // namespace
}  // namespace dendrite::cli
