#include "dendrite/data/image_folder.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/data/png.h"

namespace dendrite::data {
namespace {

struct Entry {
  std::filesystem::path file;
  int64_t label;
  int64_t line;
};

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool parse_int(std::string_view s, int64_t& value) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

std::vector<Entry> read_labels(const std::filesystem::path& dir, const std::filesystem::path& csv,
                               int64_t num_classes) {
  std::ifstream in(csv);
  DENDRITE_CHECK(in.good(), "image_folder: cannot read the labels file {} (expected lines 'filename,label')",
                 csv.string());
  std::vector<Entry> entries;
  std::string text;
  bool first = true;
  std::error_code ec;
  for (int64_t line = 1; std::getline(in, text); ++line) {
    std::string_view content = trim(text);
    if (line == 1 && content.starts_with("\xEF\xBB\xBF")) content = trim(content.substr(3));  // a UTF-8 BOM
    if (content.empty()) continue;
    const size_t comma = content.find(',');
    DENDRITE_CHECK(comma != std::string_view::npos && content.find(',', comma + 1) == std::string_view::npos,
                   "image_folder: {} line {}: expected 'filename,label', got '{}'", csv.string(), line, content);
    const std::string_view name = trim(content.substr(0, comma)), label_text = trim(content.substr(comma + 1));
    DENDRITE_CHECK(!name.empty(), "image_folder: {} line {}: empty filename in '{}'", csv.string(), line, content);
    const std::filesystem::path file = dir / std::string(name);
    const bool exists = std::filesystem::is_regular_file(file, ec);
    int64_t label = 0;
    const bool numeric = parse_int(label_text, label);
    // A first line naming no file and no integer label is a header ("filename,label").
    if (std::exchange(first, false) && !numeric && !exists) continue;
    DENDRITE_CHECK(numeric, "image_folder: {} line {}: label '{}' is not an integer", csv.string(), line, label_text);
    DENDRITE_CHECK(label >= 0, "image_folder: {} line {}: label {} is negative", csv.string(), line, label);
    DENDRITE_CHECK(num_classes <= 0 || label < num_classes,
                   "image_folder: {} line {}: label {} is out of range for {} classes [0, {})", csv.string(), line,
                   label, num_classes, num_classes);
    DENDRITE_CHECK(exists, "image_folder: {} line {}: no file '{}' in {}", csv.string(), line, name, dir.string());
    entries.push_back({file, label, line});
  }
  DENDRITE_CHECK(!in.bad(), "image_folder: error reading {}: {}", csv.string(), std::strerror(errno));
  DENDRITE_CHECK(!entries.empty(), "image_folder: {} lists no images", csv.string());
  return entries;
}

}  // namespace

TensorDataset image_folder(const std::filesystem::path& dir, const ImageFolderOptions& options) {
  DENDRITE_CHECK(options.channels == 0 || options.channels == 1 || options.channels == 3,
                 "image_folder: channels must be 0 (automatic), 1 (grey) or 3 (RGB), got {}", options.channels);
  std::error_code ec;
  DENDRITE_CHECK(std::filesystem::is_directory(dir, ec), "image_folder: no directory {}", dir.string());
  const std::filesystem::path csv = options.labels.empty() ? dir / "labels.csv" : options.labels;
  const std::vector<Entry> entries = read_labels(dir, csv, options.num_classes);

  // Headers first: a wrong-sized image fails before any decoding, and the channel count is known.
  const PngHeader first = read_png_header(entries[0].file);
  bool any_color = first.color;
  for (const Entry& e : entries) {
    const PngHeader h = read_png_header(e.file);
    DENDRITE_CHECK(h.width == first.width && h.height == first.height,
                   "image_folder: {} (line {} of {}) is {}x{} pixels (width x height) but {} is {}x{}; every image "
                   "must have the same size",
                   e.file.string(), e.line, csv.string(), h.width, h.height, entries[0].file.string(), first.width,
                   first.height);
    any_color = any_color || h.color;
  }
  const int channels = options.channels != 0 ? options.channels : (any_color ? 3 : 1);

  const auto n = static_cast<int64_t>(entries.size());
  Tensor inputs = TensorBase::empty({n, channels, first.height, first.width}, DType::f32);
  Tensor targets = TensorBase::empty({n}, DType::i64);
  const int64_t per_image = channels * first.height * first.width;
  for (int64_t i = 0; i < n; ++i) {
    const Tensor image = read_png(entries[static_cast<size_t>(i)].file, channels);
    std::memcpy(inputs.data_ptr<float>() + i * per_image, image.raw_data(),
                static_cast<size_t>(per_image) * sizeof(float));
    targets.data_ptr<int64_t>()[i] = entries[static_cast<size_t>(i)].label;
  }
  return TensorDataset(std::move(inputs), std::move(targets));
}

}  // namespace dendrite::data
