// Reading recipes with toml++ and writing them back, both driven by the schema (recipe_schema.h).
#include "dendrite/cli/recipe.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <fstream>
#include <sstream>

#include "dendrite/cli/recipe_schema.h"
#include "dendrite/core/error.h"

namespace dendrite::cli {
namespace fs = std::filesystem;
namespace {

template <typename... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};

// The value as TOML writes it, for messages: "ten" with its quotes, 3.5, [1, 2].
std::string show(const toml::node& node) {
  std::ostringstream out;
  node.visit([&](const auto& n) { out << n; });
  std::string text = out.str();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

std::string_view toml_type(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

std::string at_line(const toml::node& node) {
  const auto line = node.source().begin.line;
  return line > 0 ? fmt::format(" (line {})", line) : std::string();
}

// Reads `node` into the field; false when its type does not fit. Integers are accepted where a
// number is expected (lr = 1), never the other way round.
bool read_value(const toml::node& node, const schema::FieldRef& ref);

template <typename T>
bool read_scalar(const toml::node& node, T& out) {
  if constexpr (std::is_same_v<T, double>) {
    if (const auto* i = node.as_integer()) {
      out = static_cast<double>(i->get());
      return true;
    }
    if (const auto* f = node.as_floating_point()) {
      out = f->get();
      return true;
    }
  } else if constexpr (std::is_same_v<T, int64_t>) {
    if (const auto* i = node.as_integer()) {
      out = i->get();
      return true;
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    if (const auto* b = node.as_boolean()) {
      out = b->get();
      return true;
    }
  } else {
    if (const auto* s = node.as_string()) {
      out = s->get();
      return true;
    }
  }
  return false;
}

template <typename T>
bool read_array(const toml::node& node, std::vector<T>& out) {
  const auto* array = node.as_array();
  if (array == nullptr) return false;
  std::vector<T> values(array->size());
  for (size_t i = 0; i < array->size(); ++i)
    if (!read_scalar((*array)[i], values[i])) return false;
  out = std::move(values);
  return true;
}

bool read_value(const toml::node& node, const schema::FieldRef& ref) {
  return std::visit(
      Overloaded{[&](int64_t* p) { return read_scalar(node, *p); }, [&](double* p) { return read_scalar(node, *p); },
                 [&](bool* p) { return read_scalar(node, *p); }, [&](std::string* p) { return read_scalar(node, *p); },
                 [&](std::vector<int64_t>* p) { return read_array(node, *p); },
                 [&](std::vector<double>* p) { return read_array(node, *p); },
                 [&](std::vector<std::string>* p) { return read_array(node, *p); }},
      ref);
}

void assign(Recipe& recipe, const schema::Key& key, const toml::node& node, const std::string& where) {
  const schema::FieldRef ref = key.field(recipe);
  DENDRITE_CHECK(read_value(node, ref), "{}: key '{}'{} must be {}, got {} {}", where, key.dotted(), at_line(node),
                 schema::type_name(ref), toml_type(node), show(node));
}

void read_section(Recipe& recipe, std::string_view section, const toml::table& table, const std::string& where) {
  for (const auto& [name, node] : table) {
    const schema::Key* key = schema::find(section, name.str());
    if (key == nullptr) {
      const std::string dotted = section.empty() ? std::string(name.str()) : fmt::format("{}.{}", section, name.str());
      fail("{}: unknown key '{}'{}; {}", where, dotted, at_line(node), schema::valid_keys_message(section));
    }
    assign(recipe, *key, node, where);
  }
}

bool is_section(std::string_view name) {
  for (std::string_view s : schema::sections())
    if (!s.empty() && s == name) return true;
  return false;
}

// TOML text of a value, written so that it reads back as the same value.
std::string format_double(double v) {
  std::string text = fmt::format("{}", v);
  if (text.find_first_of(".eEni") == std::string::npos) text += ".0";  // 1 -> 1.0; inf and nan stay
  return text;
}

std::string format_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
          out += fmt::format("\\u{:04X}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        else
          out += c;
    }
  }
  return out + "\"";
}

template <typename T, typename F>
std::string format_array(const std::vector<T>& values, F format) {
  std::vector<std::string> parts;
  for (const T& v : values) parts.push_back(format(v));
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

std::string format_value(const schema::FieldRef& ref) {
  return std::visit(
      Overloaded{
          [](int64_t* p) { return fmt::format("{}", *p); }, [](double* p) { return format_double(*p); },
          [](bool* p) { return std::string(*p ? "true" : "false"); }, [](std::string* p) { return format_string(*p); },
          [](std::vector<int64_t>* p) { return format_array(*p, [](int64_t v) { return fmt::format("{}", v); }); },
          [](std::vector<double>* p) { return format_array(*p, format_double); },
          [](std::vector<std::string>* p) { return format_array(*p, format_string); }},
      ref);
}

}  // namespace

Recipe parse_recipe(std::string_view text, const std::string& source, const std::string& default_name) {
  const std::string where = fmt::format("recipe {}", source);
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    fail("{}:{}:{}: {}", where, e.source().begin.line, e.source().begin.column, e.description());
  }
  Recipe recipe;
  recipe.name = default_name;
  toml::table top_level;
  for (const auto& [name, node] : root) {
    if (is_section(name.str())) {
      const auto* table = node.as_table();
      DENDRITE_CHECK(table != nullptr, "{}: '{}'{} must be a table ([{}]), got {}", where, name.str(), at_line(node),
                     name.str(), toml_type(node));
      read_section(recipe, name.str(), *table, where);
    } else {
      const schema::Key* key = schema::find("", name.str());
      if (key == nullptr) {
        const char* what = node.is_table() ? "section" : "key";
        fail("{}: unknown {} '{}'{}; {}", where, what, name.str(), at_line(node), schema::valid_keys_message());
      }
      assign(recipe, *key, node, where);
    }
  }
  return recipe;
}

Recipe parse_recipe_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  DENDRITE_CHECK(in.good(), "recipe {}: cannot open the file", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  DENDRITE_CHECK(!in.bad(), "recipe {}: cannot read the file", path.string());
  return parse_recipe(text.str(), path.string(), path.stem().string());
}

void set_recipe_key(Recipe& recipe, std::string_view assignment) {
  const size_t eq = assignment.find('=');
  DENDRITE_CHECK(eq != std::string_view::npos && eq > 0, "--set {}: expected SECTION.KEY=VALUE, e.g. optim.lr=0.1",
                 assignment);
  const std::string dotted(assignment.substr(0, eq));
  const std::string value(assignment.substr(eq + 1));
  const size_t dot = dotted.find('.');
  const std::string section = dot == std::string::npos ? "" : dotted.substr(0, dot);
  const std::string name = dot == std::string::npos ? dotted : dotted.substr(dot + 1);
  const schema::Key* key = schema::find(section, name);
  DENDRITE_CHECK(key != nullptr, "--set {}: unknown key '{}'; {}", assignment, dotted,
                 schema::valid_keys_message(section));

  // The value in TOML syntax; what does not parse (a bare path, a word) is taken as a string.
  toml::table parsed;
  try {
    parsed = toml::parse("value = " + value);
  } catch (const toml::parse_error&) {
    parsed = toml::table{{"value", value}};
  }
  assign(recipe, *key, *parsed.get("value"), fmt::format("--set {}", assignment));
}

std::vector<std::string> recipe_keys() {
  std::vector<std::string> out;
  for (const schema::Key& k : schema::keys()) out.push_back(k.dotted());
  return out;
}

std::string to_toml(const Recipe& recipe) {
  Recipe copy = recipe;  // the schema hands out mutable references
  std::string out;
  for (std::string_view section : schema::sections()) {
    if (!section.empty()) out += fmt::format("\n[{}]\n", section);
    for (const schema::Key& key : schema::keys()) {
      if (key.section != section) continue;
      out += fmt::format("{} = {}  # {}\n", key.name, format_value(key.field(copy)), key.help);
    }
  }
  return out;
}

kernels::MathPrecision math_precision_of(const TrainRecipe& train) {
  if (train.precision.empty()) return kernels::math_precision();
  return kernels::parse_math_precision(train.precision, "key 'train.precision'");
}

}  // namespace dendrite::cli
