#include "dendrite/train/metrics.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "dendrite/core/error.h"
#include "dendrite/train/atomic_file.h"

namespace dendrite::train {
namespace {

using ordered_json = nlohmann::ordered_json;

ordered_json to_json(const MetricRecord& record) {
  ordered_json j = ordered_json::object();
  for (const auto& [key, value] : record) {
    std::visit(
        [&, &key = key](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, double>) {
            j[key] = std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr);
          } else {
            j[key] = v;
          }
        },
        value.variant());
  }
  return j;
}

MetricValue from_json(const ordered_json& v) {
  if (v.is_number_integer()) return MetricValue(v.get<int64_t>());
  if (v.is_number()) return MetricValue(v.get<double>());
  if (v.is_string()) return MetricValue(v.get<std::string>());
  if (v.is_null()) return MetricValue(std::numeric_limits<double>::quiet_NaN());
  if (v.is_boolean()) return MetricValue(v.get<bool>());
  return MetricValue(v.dump());
}

}  // namespace

MetricValue::MetricValue(uint64_t value) {
  if (value <= static_cast<uint64_t>(INT64_MAX))
    value_ = static_cast<int64_t>(value);
  else
    value_ = static_cast<double>(value);
}

double MetricValue::as_double() const {
  if (const auto* b = std::get_if<bool>(&value_)) return *b ? 1.0 : 0.0;
  if (const auto* i = std::get_if<int64_t>(&value_)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&value_)) return *d;
  fail("metric value \"{}\" is a string, not a number", std::get<std::string>(value_));
}

const std::string& MetricValue::as_string() const {
  const auto* s = std::get_if<std::string>(&value_);
  DENDRITE_CHECK(s != nullptr, "metric value is a number, not a string");
  return *s;
}

const MetricValue* find(const MetricRecord& record, std::string_view key) {
  for (const auto& [k, v] : record)
    if (k == key) return &v;
  return nullptr;
}

std::string to_json_line(const MetricRecord& record) { return to_json(record).dump(); }

MetricsLogger::MetricsLogger(std::filesystem::path path) : path_(std::move(path)) {
  out_.open(path_, std::ios::app);
  DENDRITE_CHECK(out_.is_open(), "{}: cannot open for appending: {}", path_.string(), std::strerror(errno));
}

void MetricsLogger::log(const MetricRecord& record) {
  out_ << to_json_line(record) << '\n';
  out_.flush();
  DENDRITE_CHECK(out_.good(), "{}: write failed", path_.string());
}

std::vector<MetricRecord> read_metrics(const std::filesystem::path& path) {
  std::ifstream in(path);
  DENDRITE_CHECK(in.is_open(), "{}: cannot open: {}", path.string(), std::strerror(errno));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  // Only the last line can be torn: a line is written whole and flushed before the next begins.
  const bool last_complete = !lines.empty() && (in.clear(), in.seekg(-1, std::ios::end), in.get() == '\n');
  std::vector<MetricRecord> records;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    ordered_json j;
    try {
      j = ordered_json::parse(lines[i]);
    } catch (const nlohmann::json::parse_error& e) {
      if (i + 1 == lines.size() && !last_complete) break;
      fail("{}: line {} is not valid JSON: {}", path.string(), i + 1, e.what());
    }
    DENDRITE_CHECK(j.is_object(), "{}: line {} is not a JSON object", path.string(), i + 1);
    MetricRecord record;
    for (const auto& [key, value] : j.items()) record.emplace_back(key, from_json(value));
    records.push_back(std::move(record));
  }
  return records;
}

void truncate_metrics(const std::filesystem::path& path, int64_t step) {
  if (!std::filesystem::exists(path)) return;
  std::string kept;
  for (const MetricRecord& record : read_metrics(path)) {
    const MetricValue* s = find(record, "step");
    if (s != nullptr && s->is_number() && s->as_double() > static_cast<double>(step)) continue;
    kept += to_json_line(record) + "\n";
  }
  write_file_atomically(path, kept);
}

void write_json_file(const std::filesystem::path& path, const MetricRecord& record) {
  write_file_atomically(path, to_json(record).dump(2) + "\n");
}

}  // namespace dendrite::train
