// The recipe schema: one table of keys (section, name, where the value lives in a Recipe, what it
// means) that parsing, overriding, validation messages and serialisation all read, so a key added
// here is at once accepted, listed in errors and written into every run's config.toml.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dendrite/cli/recipe.h"

namespace dendrite::cli::schema {

// Where one key's value lives; the alternative says its type.
using FieldRef = std::variant<int64_t*, double*, bool*, std::string*, std::vector<int64_t>*, std::vector<double>*,
                              std::vector<std::string>*>;

struct Key {
  std::string_view section;  // "" for top-level keys
  std::string_view name;
  std::string_view help;
  std::function<FieldRef(Recipe&)> field;

  std::string dotted() const;  // "optim.lr", or "name" at the top level
};

// Every key, grouped by section in the order sections are written.
std::span<const Key> keys();
// The sections in order, "" (top level) first.
std::span<const std::string_view> sections();

// The key, or null.
const Key* find(std::string_view section, std::string_view name);

// "an integer", "a number", "an array of strings", ...
std::string_view type_name(const FieldRef& ref);

// "valid keys: name, description, model.architecture, ..." (all), or those of one section.
std::string valid_keys_message();
std::string valid_keys_message(std::string_view section);

}  // namespace dendrite::cli::schema
