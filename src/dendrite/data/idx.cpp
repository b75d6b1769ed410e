#include "dendrite/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace dendrite::data {
namespace {

struct GzClose {
  void operator()(gzFile_s* file) const { gzclose(file); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzClose>;

// Deflate cannot expand data by more than about 1032:1 (RFC 1951 blocks: 258 bytes from a
// 2-bit code at best), so a compressed file of S bytes holds less than this many bytes.
constexpr uint64_t kMaxDeflateRatio = 1100;

struct ElementType {
  uint8_t code;
  const char* name;
  size_t bytes;  // in the file
  DType dtype;   // in memory
};
constexpr std::array<ElementType, 6> kTypes{{{0x08, "u8", 1, DType::u8},
                                             {0x09, "i8", 1, DType::i8},
                                             {0x0B, "i16", 2, DType::i32},
                                             {0x0C, "i32", 4, DType::i32},
                                             {0x0D, "f32", 4, DType::f32},
                                             {0x0E, "f64", 8, DType::f64}}};

class Reader {
 public:
  explicit Reader(const std::filesystem::path& path) : path_(path.string()) {
    std::error_code ec;
    DENDRITE_CHECK(std::filesystem::is_regular_file(path, ec), "read_idx: {}: no such file", path_);
    file_size_ = std::filesystem::file_size(path, ec);
    file_.reset(gzopen(path_.c_str(), "rb"));
    DENDRITE_CHECK(file_ != nullptr, "read_idx: {}: cannot open: {}", path_, std::strerror(errno));
    gzbuffer(file_.get(), 1 << 17);
  }

  const std::string& path() const { return path_; }
  uint64_t offset() const { return offset_; }
  // Where offsets point: the file itself, or the data gzip decompresses to.
  const char* where() const { return compressed() ? " of the decompressed data" : ""; }
  bool compressed() const { return gzdirect(file_.get()) == 0; }
  // The most data bytes the file can yield after `offset_`.
  uint64_t capacity() const {
    if (!compressed()) return file_size_ > offset_ ? file_size_ - offset_ : 0;
    return file_size_ * kMaxDeflateRatio + (1 << 20);
  }

  // Reads up to n bytes, fewer only at the end of the data; gzip errors throw.
  uint64_t read(void* dst, uint64_t n) {
    uint64_t got = 0;
    auto* out = static_cast<unsigned char*>(dst);
    while (got < n) {
      const auto chunk = static_cast<unsigned>(std::min<uint64_t>(n - got, 1u << 30));
      const int r = gzread(file_.get(), out + got, chunk);
      if (r < 0) fail_gzip();
      got += static_cast<uint64_t>(r);
      offset_ += static_cast<uint64_t>(r);
      if (static_cast<unsigned>(r) < chunk) break;
    }
    if (got < n) {
      int code = Z_OK;
      gzerror(file_.get(), &code);
      // zlib reports a stream cut short as Z_BUF_ERROR after returning what it could inflate.
      cut_short_ = code == Z_BUF_ERROR;
      if (code != Z_OK && code != Z_BUF_ERROR) fail_gzip();
    }
    return got;
  }
  // Why data ended early: the gzip stream was cut, or the file is simply short.
  std::string ending() const {
    return cut_short_ ? "the gzip stream ends prematurely (compressed file truncated)" : "the file ends";
  }

 private:
  [[noreturn]] void fail_gzip() const {
    int code = Z_OK;
    std::string_view message = gzerror(file_.get(), &code);
    // zlib prefixes its messages with the path, which ours already names.
    if (message.starts_with(path_ + ": ")) message.remove_prefix(path_.size() + 2);
    fail("read_idx: {}: gzip error at byte {}{}: {} (zlib code {})", path_, offset_, where(), message, code);
  }

  std::string path_;
  GzHandle file_;
  uint64_t file_size_ = 0;
  uint64_t offset_ = 0;
  bool cut_short_ = false;
};

uint32_t big_endian_u32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void to_native_order(std::byte* data, uint64_t count, size_t bytes) {
  for (uint64_t i = 0; i < count; ++i) std::reverse(data + i * bytes, data + (i + 1) * bytes);
}

}  // namespace

Tensor read_idx(const std::filesystem::path& path, int64_t expected_rank) {
  Reader in(path);
  const std::string& name = in.path();
  std::array<unsigned char, 4> magic{};
  const uint64_t got_magic = in.read(magic.data(), 4);
  DENDRITE_CHECK(got_magic == 4, "read_idx: {}: truncated header: {} at byte {}{}, inside the 4-byte magic number",
                 name, in.ending(), got_magic, in.where());
  DENDRITE_CHECK(magic[0] == 0 && magic[1] == 0,
                 "read_idx: {}: bad magic number 0x{:08x} at byte 0{}: an IDX file starts with two zero bytes, "
                 "a type code and the rank",
                 name, big_endian_u32(magic.data()), in.where());
  const ElementType* type = nullptr;
  for (const ElementType& t : kTypes) type = t.code == magic[2] ? &t : type;
  DENDRITE_CHECK(type != nullptr,
                 "read_idx: {}: unknown element type code 0x{:02x} at byte 2{} (IDX codes: 0x08 u8, 0x09 i8, 0x0B i16, "
                 "0x0C i32, 0x0D f32, 0x0E f64)",
                 name, magic[2], in.where());
  const int64_t rank = magic[3];
  DENDRITE_CHECK(rank >= 1, "read_idx: {}: rank 0 at byte 3{}: an IDX file has at least one dimension", name,
                 in.where());
  DENDRITE_CHECK(expected_rank < 0 || rank == expected_rank, "read_idx: {}: rank {} at byte 3{}, expected rank {}",
                 name, rank, in.where(), expected_rank);

  std::vector<unsigned char> dims_raw(static_cast<size_t>(4 * rank));
  const uint64_t got_dims = in.read(dims_raw.data(), dims_raw.size());
  DENDRITE_CHECK(got_dims == dims_raw.size(),
                 "read_idx: {}: truncated header: {} at byte {}{}, but rank {} needs dimensions in bytes 4 to {}", name,
                 in.ending(), in.offset(), in.where(), rank, 4 + 4 * rank - 1);
  Shape shape;
  uint64_t count = 1;
  bool overflow = false;
  for (int64_t i = 0; i < rank; ++i) {
    const uint32_t d = big_endian_u32(dims_raw.data() + 4 * i);
    shape.push_back(d);
    overflow = overflow || (d != 0 && count > (uint64_t{1} << 56) / d);
    count *= d;
  }
  const uint64_t header = in.offset();
  DENDRITE_CHECK(!overflow, "read_idx: {}: dimensions {} in bytes 4 to {} describe an impossibly large array", name,
                 to_string(shape), header - 1);
  const uint64_t data_bytes = count * type->bytes;

  // Trust the header only as far as the file can back it: a corrupt size must not allocate gigabytes.
  const auto truncated = [&](uint64_t got) {
    fail(
        "read_idx: {}: truncated data: {} at byte {}{}, but the header declares {} {} elements ({} bytes, bytes {} "
        "to {})",
        name, in.ending(), header + got, in.where(), type->name, to_string(shape), data_bytes, header,
        header + data_bytes - 1);
  };
  if (data_bytes > in.capacity()) {
    std::vector<std::byte> scratch(1 << 20);
    uint64_t got = 0;
    while (got < data_bytes) {
      const uint64_t r = in.read(scratch.data(), std::min<uint64_t>(scratch.size(), data_bytes - got));
      got += r;
      if (r == 0) break;
    }
    if (got < data_bytes) truncated(got);
    fail("read_idx: {}: the header declares {} bytes of data, more than a file of {} bytes can hold", name, data_bytes,
         std::filesystem::file_size(path));
  }
  // The format's i16 has no dtype of its own: it is read aside and widened to i32.
  const bool widen = type->code == 0x0B;
  Tensor out = TensorBase::empty(shape, type->dtype);
  std::vector<std::byte> narrow(widen ? data_bytes : 0);
  auto* raw = widen ? narrow.data() : static_cast<std::byte*>(out.raw_data());
  const uint64_t got = in.read(raw, data_bytes);
  if (got < data_bytes) truncated(got);
  unsigned char extra = 0;
  DENDRITE_CHECK(in.read(&extra, 1) == 0,
                 "read_idx: {}: unexpected data at byte {}{}: the header declares {} {} elements, which end at byte "
                 "{} (wrong dimensions, or files joined together?)",
                 name, header + data_bytes, in.where(), type->name, to_string(shape), header + data_bytes - 1);

  if (type->bytes > 1) to_native_order(raw, count, type->bytes);
  if (widen) {
    auto* dst = out.data_ptr<int32_t>();
    for (uint64_t i = 0; i < count; ++i) {
      int16_t v;
      std::memcpy(&v, raw + 2 * i, 2);
      dst[i] = v;
    }
  }
  return out;
}

}  // namespace dendrite::data
