// JSON and text renderings of a bench result. Written by hand rather than with a JSON library: the
// records are flat (strings, numbers, one bool), and the cli library keeps its dependencies few.
#include "dendrite/cli/bench_record.h"

#include <fmt/format.h>

#include <cmath>

namespace dendrite::cli {

std::string json_quote(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string json_number(double value) {
  if (!std::isfinite(value)) return "null";
  return fmt::format("{}", value);  // shortest representation that reads back exactly
}

std::string to_json(const BenchRecord& r) {
  std::string out = fmt::format(
      "{{\"key\": {}, \"workload\": {}, \"name\": {}, \"impl\": \"dendrite\", \"config\": \"default\", "
      "\"metric\": {}, \"unit\": {}, \"value\": {}, \"higher_is_better\": {}, \"threads\": {}",
      json_quote(r.key), json_quote(r.workload), json_quote(r.name), json_quote(r.metric), json_quote(r.unit),
      json_number(r.value), r.higher_is_better ? "true" : "false", r.threads);
  for (const auto& [field, number] : r.extras) out += fmt::format(", {}: {}", json_quote(field), json_number(number));
  return out + "}";
}

namespace {

// Thousands separators for big throughputs, three significant digits or so for small figures.
std::string readable(double value) {
  if (!std::isfinite(value)) return "n/a";
  if (value == std::floor(value) && std::fabs(value) < 1000) return fmt::format("{}", static_cast<long long>(value));
  if (std::fabs(value) >= 1000) {
    const std::string digits = fmt::format("{}", std::llround(std::fabs(value)));
    std::string grouped = value < 0 ? "-" : "";
    for (size_t i = 0; i < digits.size(); ++i) {
      if (i > 0 && (digits.size() - i) % 3 == 0) grouped.push_back(',');
      grouped.push_back(digits[i]);
    }
    return grouped;
  }
  if (std::fabs(value) >= 100) return fmt::format("{:.1f}", value);
  if (std::fabs(value) >= 1) return fmt::format("{:.2f}", value);
  return fmt::format("{:.4f}", value);
}

// Fields the text line leaves out: constants of the workload or of the run, kept in the JSON.
bool shown_in_text(const std::string& field) {
  for (const char* hidden : {"flop_per_sample", "peak_gflops", "load_average", "warmup", "rounds", "calls", "seed",
                             "train_examples", "test_examples"})
    if (field == hidden) return false;
  return true;
}

}  // namespace

std::string to_text(const BenchRecord& r) {
  std::string details = fmt::format("threads {}", r.threads);
  for (const auto& [field, number] : r.extras) {
    if (!shown_in_text(field)) continue;
    if (field == "peak_fraction" || field == "vs_onednn") {
      details += fmt::format(", {} {:.1f}%", field, 100 * number);
    } else {
      details += fmt::format(", {} {}", field, readable(number));
    }
  }
  return fmt::format("{:<16} {:<44} {:>10} {:<10} ({})", r.key, r.name, readable(r.value), r.unit, details);
}

}  // namespace dendrite::cli
