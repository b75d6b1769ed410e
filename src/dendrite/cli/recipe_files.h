// Where built-in recipes live and how a RECIPE argument becomes a file.
//
// Built-in recipes are looked up, in order, in <prefix>/share/dendrite/recipes next to an installed
// `dendrite` (<prefix>/bin/dendrite) and in the source tree's recipes/ directory (its path is
// compiled in), so both an installed command and one run from a build directory find them.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace dendrite::cli {

// The directories searched for built-in recipes, in order, whether or not they exist.
std::vector<std::filesystem::path> recipe_dirs();

// A RECIPE argument as a file: a path (it contains '/' or ends in .toml) or a built-in recipe's
// name. An unknown name is an Error listing the built-in recipes and where they were looked for.
std::filesystem::path resolve_recipe(const std::string& argument,
                                     const std::vector<std::filesystem::path>& dirs = recipe_dirs());

struct RecipeEntry {
  std::string name;
  std::string description;  // or why the file could not be read
  std::filesystem::path path;
};

// The built-in recipes, by name; a name found in several directories is listed once, from the first.
std::vector<RecipeEntry> list_recipes(const std::vector<std::filesystem::path>& dirs = recipe_dirs());

}  // namespace dendrite::cli
