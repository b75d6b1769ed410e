#include "dendrite/train/safetensors.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "dendrite/core/error.h"
#include "dendrite/train/atomic_file.h"

namespace dendrite::train {
namespace {

// The data is written and read with memcpy, which is little-endian only on a little-endian host.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

using ordered_json = nlohmann::ordered_json;

// The reference implementation refuses larger headers too; it bounds the memory a hostile file
// can make us allocate before any tensor is validated.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

constexpr std::array<std::pair<DType, std::string_view>, kNumDTypes> kDTypeNames{{
    {DType::f32, "F32"},
    {DType::f64, "F64"},
    {DType::bf16, "BF16"},
    {DType::f16, "F16"},
    {DType::i8, "I8"},
    {DType::u8, "U8"},
    {DType::i32, "I32"},
    {DType::i64, "I64"},
}};

std::optional<DType> parse_dtype(std::string_view text) {
  for (const auto& [dtype, label] : kDTypeNames)
    if (label == text) return dtype;
  return std::nullopt;
}

std::string known_dtypes() {
  std::string out;
  for (const auto& [dtype, label] : kDTypeNames) out += (out.empty() ? "" : ", ") + std::string(label);
  return out;
}

// One tensor's header entry after validation, before its bytes are copied.
struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin;
  uint64_t end;
};

// Reads a non-negative integer field, or throws naming the tensor and field.
uint64_t unsigned_field(const ordered_json& value, std::string_view source, const std::string& tensor,
                        std::string_view field) {
  DENDRITE_CHECK(value.is_number_unsigned(), "{}: tensor '{}': {} must hold non-negative integers, got {}", source,
                 tensor, field, value.dump());
  return value.get<uint64_t>();
}

Entry parse_entry(const std::string& name, const ordered_json& spec, std::string_view source) {
  DENDRITE_CHECK(spec.is_object(),
                 "{}: tensor '{}': entry must be an object with dtype, shape and data_offsets, got {}", source, name,
                 spec.dump());
  for (const char* field : {"dtype", "shape", "data_offsets"})
    DENDRITE_CHECK(spec.contains(field), "{}: tensor '{}': field '{}' is missing", source, name, field);

  const ordered_json& dtype_field = spec["dtype"];
  DENDRITE_CHECK(dtype_field.is_string(), "{}: tensor '{}': field 'dtype' must be a string, got {}", source, name,
                 dtype_field.dump());
  std::optional<DType> dtype = parse_dtype(dtype_field.get_ref<const std::string&>());
  DENDRITE_CHECK(dtype.has_value(), "{}: tensor '{}': unknown dtype {} (known: {})", source, name, dtype_field.dump(),
                 known_dtypes());

  const ordered_json& shape_field = spec["shape"];
  DENDRITE_CHECK(shape_field.is_array(), "{}: tensor '{}': field 'shape' must be an array, got {}", source, name,
                 shape_field.dump());
  Shape shape;
  uint64_t bytes = element_size(*dtype);
  for (const ordered_json& dim : shape_field) {
    uint64_t size = unsigned_field(dim, source, name, "field 'shape'");
    DENDRITE_CHECK(size <= static_cast<uint64_t>(INT64_MAX) && !__builtin_mul_overflow(bytes, size, &bytes),
                   "{}: tensor '{}': shape {} is too large", source, name, shape_field.dump());
    shape.push_back(static_cast<int64_t>(size));
  }

  const ordered_json& offsets = spec["data_offsets"];
  DENDRITE_CHECK(offsets.is_array() && offsets.size() == 2,
                 "{}: tensor '{}': field 'data_offsets' must be [begin, end], got {}", source, name, offsets.dump());
  uint64_t begin = unsigned_field(offsets[0], source, name, "field 'data_offsets'");
  uint64_t end = unsigned_field(offsets[1], source, name, "field 'data_offsets'");
  DENDRITE_CHECK(begin <= end, "{}: tensor '{}': data_offsets [{}, {}] end before they begin", source, name, begin,
                 end);
  DENDRITE_CHECK(end - begin == bytes,
                 "{}: tensor '{}': shape {} of {} needs {} bytes, but data_offsets [{}, {}] span {}", source, name,
                 to_string(shape), dtype_field.get_ref<const std::string&>(), bytes, begin, end, end - begin);
  return Entry{name, *dtype, std::move(shape), begin, end};
}

Metadata parse_metadata(const ordered_json& value, std::string_view source) {
  DENDRITE_CHECK(value.is_object(), "{}: '__metadata__' must be an object of strings, got {}", source, value.dump());
  Metadata metadata;
  for (const auto& [key, item] : value.items()) {
    DENDRITE_CHECK(item.is_string(), "{}: '__metadata__' key '{}' must be a string, got {}", source, key, item.dump());
    metadata.emplace_back(key, item.get<std::string>());
  }
  return metadata;
}

// The tensors' byte ranges must tile the data buffer exactly, as the reference reader demands:
// an overlap would alias two tensors and a gap means the file is not what its header says.
void check_tiling(std::vector<const Entry*> entries, uint64_t data_bytes, uint64_t data_start,
                  std::string_view source) {
  std::sort(entries.begin(), entries.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry* e : entries) {
    DENDRITE_CHECK(
        e->end <= data_bytes,
        "{}: tensor '{}': data_offsets [{}, {}] (file bytes {} to {}) run past the end of the data ({} bytes "
        "from file byte {}; truncated file?)",
        source, e->name, e->begin, e->end, data_start + e->begin, data_start + e->end, data_bytes, data_start);
    DENDRITE_CHECK(e->begin >= covered || previous == nullptr,
                   "{}: tensor '{}': data_offsets [{}, {}] overlap tensor '{}' at [{}, {}]", source, e->name, e->begin,
                   e->end, previous ? previous->name : "", previous ? previous->begin : 0,
                   previous ? previous->end : 0);
    DENDRITE_CHECK(e->begin == covered, "{}: data bytes [{}, {}) before tensor '{}' belong to no tensor", source,
                   covered, e->begin, e->name);
    covered = e->end;
    previous = e;
  }
  DENDRITE_CHECK(covered == data_bytes, "{}: data bytes [{}, {}) after the last tensor belong to no tensor", source,
                 covered, data_bytes);
}

uint64_t read_u64_le(const char* p) {
  uint64_t value = 0;
  std::memcpy(&value, p, sizeof value);
  return value;
}

}  // namespace

const Tensor* Safetensors::find(std::string_view name) const {
  for (const auto& [key, tensor] : tensors)
    if (key == name) return &tensor;
  return nullptr;
}

const std::string* Safetensors::find_metadata(std::string_view key) const {
  for (const auto& [k, value] : metadata)
    if (k == key) return &value;
  return nullptr;
}

std::string_view safetensors_dtype(DType dtype) {
  for (const auto& [d, label] : kDTypeNames)
    if (d == dtype) return label;
  fail("safetensors: dtype {} has no safetensors name", name(dtype));
}

std::string encode_safetensors(const nn::NamedTensors& tensors, const Metadata& metadata) {
  std::set<std::string_view> seen;
  std::vector<Tensor> contiguous;
  for (const auto& [tensor_name, tensor] : tensors) {
    DENDRITE_CHECK(!tensor_name.empty(), "save_safetensors: a tensor has an empty name");
    DENDRITE_CHECK(tensor_name != "__metadata__",
                   "save_safetensors: '__metadata__' is reserved and cannot name a tensor");
    DENDRITE_CHECK(seen.insert(tensor_name).second, "save_safetensors: duplicate tensor name '{}'", tensor_name);
    DENDRITE_CHECK(tensor.defined(), "save_safetensors: tensor '{}' is undefined", tensor_name);
    DENDRITE_CHECK(tensor.device() == kCPU, "save_safetensors: tensor '{}' is not on the CPU", tensor_name);
    contiguous.push_back(tensor.detach().contiguous());
  }

  // Data goes widest element first (a stable sort keeps the caller's order within one width), so
  // every tensor starts at a multiple of its element size: readers that map the file can use the
  // bytes in place. The header keeps the caller's order.
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return element_size(contiguous[a].dtype()) > element_size(contiguous[b].dtype());
  });
  std::vector<std::pair<uint64_t, uint64_t>> offsets(tensors.size());
  uint64_t data_bytes = 0;
  for (size_t i : order) {
    uint64_t bytes = static_cast<uint64_t>(contiguous[i].numel()) * element_size(contiguous[i].dtype());
    offsets[i] = {data_bytes, data_bytes + bytes};
    data_bytes += bytes;
  }

  ordered_json header = ordered_json::object();
  if (!metadata.empty()) {
    ordered_json meta = ordered_json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header["__metadata__"] = std::move(meta);
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    header[tensors[i].first] = {{"dtype", safetensors_dtype(contiguous[i].dtype())},
                                {"shape", contiguous[i].shape()},
                                {"data_offsets", {offsets[i].first, offsets[i].second}}};
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    fail("save_safetensors: cannot encode the header: {}", e.what());  // e.g. a name that is not UTF-8
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // the data buffer starts 8-byte aligned

  std::string out;
  out.reserve(8 + text.size() + data_bytes);
  uint64_t header_bytes = text.size();
  out.append(reinterpret_cast<const char*>(&header_bytes), sizeof header_bytes);
  out += text;
  for (size_t i : order) {
    const Tensor& t = contiguous[i];
    out.append(static_cast<const char*>(t.raw_data()), offsets[i].second - offsets[i].first);
  }
  return out;
}

Safetensors decode_safetensors(std::string_view bytes, std::string_view source) {
  DENDRITE_CHECK(bytes.size() >= 8, "{}: truncated safetensors file: {} bytes, fewer than the 8-byte header length",
                 source, bytes.size());
  uint64_t header_bytes = read_u64_le(bytes.data());
  DENDRITE_CHECK(header_bytes <= bytes.size() - 8,
                 "{}: header length {} (the u64 at byte 0) exceeds the {} bytes after it (truncated file?)", source,
                 header_bytes, bytes.size() - 8);
  DENDRITE_CHECK(header_bytes <= kMaxHeaderBytes, "{}: header length {} (the u64 at byte 0) exceeds the limit of {}",
                 source, header_bytes, kMaxHeaderBytes);
  std::string_view header_text = bytes.substr(8, header_bytes);
  uint64_t data_start = 8 + header_bytes;

  // nlohmann keeps the last of duplicate keys silently; a callback sees every top-level key.
  std::optional<std::string> duplicate;
  std::set<std::string> names;
  auto on_event = [&](int depth, ordered_json::parse_event_t event, ordered_json& parsed) {
    if (depth == 1 && event == ordered_json::parse_event_t::key && !duplicate &&
        !names.insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  };
  ordered_json header;
  try {
    header = ordered_json::parse(header_text.begin(), header_text.end(), on_event);
  } catch (const nlohmann::json::parse_error& e) {
    fail("{}: header (file bytes 8 to {}) is not valid JSON: error at file byte {}: {}", source, data_start,
         8 + e.byte - (e.byte > 0 ? 1 : 0), e.what());
  }
  DENDRITE_CHECK(header.is_object(), "{}: header must be a JSON object, got {}", source, header.type_name());
  DENDRITE_CHECK(!duplicate, "{}: tensor '{}' appears twice in the header", source, duplicate.value_or(""));

  Safetensors result;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__")
      result.metadata = parse_metadata(value, source);
    else
      entries.push_back(parse_entry(key, value, source));
  }
  std::vector<const Entry*> pointers;
  for (const Entry& e : entries) pointers.push_back(&e);
  check_tiling(std::move(pointers), bytes.size() - data_start, data_start, source);

  for (const Entry& e : entries) {
    TensorBase t = TensorBase::empty(e.shape, e.dtype);
    if (e.end > e.begin) std::memcpy(t.raw_data(), bytes.data() + data_start + e.begin, e.end - e.begin);
    result.tensors.emplace_back(e.name, Tensor(std::move(t)));
  }
  return result;
}

void save_safetensors(const std::filesystem::path& path, const nn::NamedTensors& tensors, const Metadata& metadata) {
  std::string bytes;
  try {
    bytes = encode_safetensors(tensors, metadata);
  } catch (const Error& e) {
    fail("{}: {}", path.string(), e.what());
  }
  write_file_atomically(path, bytes);
}

Safetensors load_safetensors(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  DENDRITE_CHECK(in.is_open(), "{}: cannot open: {}", path.string(), std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  DENDRITE_CHECK(!in.bad(), "{}: read failed", path.string());
  return decode_safetensors(bytes, path.string());
}

}  // namespace dendrite::train
