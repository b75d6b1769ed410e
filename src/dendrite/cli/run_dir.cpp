#include "dendrite/cli/run_dir.h"

#include <fmt/format.h>

#include "dendrite/cli/models.h"
#include "dendrite/core/error.h"

namespace dendrite::cli {
namespace fs = std::filesystem;

Recipe read_run_recipe(const fs::path& run_dir) {
  DENDRITE_CHECK(fs::is_directory(run_dir), "{}: no such run directory", run_dir.string());
  const fs::path config = run_dir / kConfigFile;
  DENDRITE_CHECK(fs::is_regular_file(config), "{}: not a run directory (it has no {}; `dendrite train` writes one)",
                 run_dir.string(), kConfigFile);
  Recipe recipe = parse_recipe_file(config);
  validate_recipe(recipe, config.string());
  return recipe;
}

LoadedModel load_run_model(const fs::path& run_dir, const Recipe& recipe, const std::string& which) {
  DENDRITE_CHECK(which == "best" || which == "last", "--checkpoint must be best or last, got '{}'", which);
  fs::path dir = run_dir / which;
  if (which == "best" && !fs::exists(dir)) dir = run_dir / "last";
  // A crash mid-save leaves the previous checkpoint as <dir>.old, which load_checkpoint reads.
  DENDRITE_CHECK(fs::exists(dir) || fs::exists(dir.string() + ".old"), "{}: the run has no checkpoint yet (no {}/)",
                 run_dir.string(), which);
  LoadedModel loaded{build_model(recipe.model), dir, {}};
  loaded.state = train::load_checkpoint(dir, *loaded.model, nullptr);
  loaded.model->eval();
  return loaded;
}

fs::path default_run_dir(const std::string& name) {
  const fs::path base = fs::path("runs") / name;
  auto taken = [](const fs::path& dir) { return fs::exists(dir / "last") || fs::exists(dir / "metrics.jsonl"); };
  if (!taken(base)) return base;
  for (int i = 2; i < 10000; ++i) {
    fs::path candidate = fs::path("runs") / fmt::format("{}-{}", name, i);
    if (!taken(candidate)) return candidate;
  }
  fail("runs/{}: too many runs of this name; choose a directory with --out", name);
}

}  // namespace dendrite::cli
