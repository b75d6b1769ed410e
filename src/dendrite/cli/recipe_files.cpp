#include "dendrite/cli/recipe_files.h"

#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "dendrite/cli/recipe.h"
#include "dendrite/core/error.h"

#ifndef DENDRITE_SOURCE_RECIPES_DIR
#error "DENDRITE_SOURCE_RECIPES_DIR must be defined by the build (src/dendrite/cli/CMakeLists.txt)"
#endif

namespace dendrite::cli {
namespace fs = std::filesystem;

std::vector<fs::path> recipe_dirs() {
  std::vector<fs::path> dirs;
  std::error_code ec;
  // Linux names the running executable here; elsewhere only the source tree is searched.
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back(exe.parent_path().parent_path() / "share" / "dendrite" / "recipes");
  dirs.emplace_back(DENDRITE_SOURCE_RECIPES_DIR);
  return dirs;
}

std::vector<RecipeEntry> list_recipes(const std::vector<fs::path>& dirs) {
  std::vector<RecipeEntry> entries;
  for (const fs::path& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.path().extension() == ".toml") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      const std::string name = file.stem().string();
      if (std::any_of(entries.begin(), entries.end(), [&](const RecipeEntry& e) { return e.name == name; })) continue;
      std::string description;
      try {
        description = parse_recipe_file(file).description;
      } catch (const Error& e) {
        description = fmt::format("(cannot be read: {})", e.what());
      }
      entries.push_back({name, description, file});
    }
  }
  std::sort(entries.begin(), entries.end(), [](const RecipeEntry& a, const RecipeEntry& b) { return a.name < b.name; });
  return entries;
}

fs::path resolve_recipe(const std::string& argument, const std::vector<fs::path>& dirs) {
  DENDRITE_CHECK(!argument.empty(), "an empty recipe name; `dendrite recipes` lists the built-in ones");
  const fs::path path(argument);
  if (argument.find('/') != std::string::npos || path.extension() == ".toml") {
    DENDRITE_CHECK(fs::is_regular_file(path), "recipe {}: no such file", argument);
    return path;
  }
  for (const fs::path& dir : dirs) {
    const fs::path candidate = dir / (argument + ".toml");
    if (fs::is_regular_file(candidate)) return candidate;
  }
  std::vector<std::string> names, searched;
  for (const RecipeEntry& e : list_recipes(dirs)) names.push_back(e.name);
  for (const fs::path& dir : dirs) searched.push_back(dir.string());
  fail("unknown recipe '{}'; built-in recipes: {} (looked in {}); or give the path of a .toml file", argument,
       names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", ")), fmt::join(searched, ", "));
}

}  // namespace dendrite::cli
