// Run logs: metrics.jsonl (one JSON object per line, appended and flushed as training goes, so a
// crashed or interrupted run keeps everything logged so far and `tail -f` follows it) and the
// summary.json written at the end of a run.
//
//   MetricsLogger log(run_dir / "metrics.jsonl");
//   log.log({{"kind", "train"}, {"step", 100}, {"loss", 0.41}});
//
// Thread-safety: one thread at a time per logger.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace dendrite::train {

// A value of a record: an integer, a real number (NaN and infinities are written as null, which is
// what JSON can hold), a boolean or a string.
class MetricValue {
 public:
  MetricValue(int value) : value_(static_cast<int64_t>(value)) {}  // NOLINT: literals read naturally
  MetricValue(int64_t value) : value_(value) {}                    // NOLINT
  MetricValue(uint64_t value);                                     // NOLINT: a double above INT64_MAX
  MetricValue(double value) : value_(value) {}                     // NOLINT
  MetricValue(bool value) : value_(value) {}                       // NOLINT
  MetricValue(std::string value) : value_(std::move(value)) {}     // NOLINT
  MetricValue(const char* value) : value_(std::string(value)) {}   // NOLINT

  bool is_number() const { return is_integer() || std::holds_alternative<double>(value_); }
  bool is_integer() const { return std::holds_alternative<int64_t>(value_); }
  bool is_bool() const { return std::holds_alternative<bool>(value_); }
  bool is_string() const { return std::holds_alternative<std::string>(value_); }
  double as_double() const;  // numbers and booleans (0 or 1); throws for strings
  const std::string& as_string() const;
  const std::variant<int64_t, double, bool, std::string>& variant() const { return value_; }
  bool operator==(const MetricValue&) const = default;

 private:
  std::variant<int64_t, double, bool, std::string> value_;
};

// Keys in the order they are written.
using MetricRecord = std::vector<std::pair<std::string, MetricValue>>;

// The value of `key` in `record`, or null.
const MetricValue* find(const MetricRecord& record, std::string_view key);

// One-line JSON of a record (keys in order).
std::string to_json_line(const MetricRecord& record);

class MetricsLogger {
 public:
  // Opens `path` for appending (creating it), so a resumed run continues the same file.
  explicit MetricsLogger(std::filesystem::path path);
  // Writes one line and flushes it.
  void log(const MetricRecord& record);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

// Every record of a metrics.jsonl; a line that is not a JSON object is an error naming the file and
// line, except a torn last line (a crash mid-write), which is skipped. Nested values are kept as
// their JSON text; null becomes NaN.
std::vector<MetricRecord> read_metrics(const std::filesystem::path& path);

// Rewrites `path` (atomically) keeping only records whose "step" is at most `step`: a resumed run
// drops what was logged after its checkpoint, because it is about to be logged again.
void truncate_metrics(const std::filesystem::path& path, int64_t step);

// Writes `record` as a pretty-printed JSON object, atomically.
void write_json_file(const std::filesystem::path& path, const MetricRecord& record);

}  // namespace dendrite::train
