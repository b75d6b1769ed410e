// read_idx: round trips through plain and gzip files for every element type, and an Error naming
// the file and the byte offset for each kind of corruption.
#include "dendrite/data/idx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "data/test_files.h"
#include "dendrite/ops/creation.h"
#include "support/corrupt.h"
#include "support/errors.h"

namespace dendrite::data {
namespace {

using test_support::error_of;
using files::Bytes;
using files::TempDir;
using ::testing::HasSubstr;

TEST(IdxTest, U8RoundTripThroughGzip) {
  TempDir dir;
  Bytes data(3 * 4 * 5);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  files::write_file(dir / "a.gz", files::idx_u8({3, 4, 5}, data), true);
  Tensor t = read_idx(dir / "a.gz", 3);
  EXPECT_EQ(t.dtype(), DType::u8);
  EXPECT_EQ(t.shape(), (Shape{3, 4, 5}));
  EXPECT_EQ(to_vector<uint8_t>(t), std::vector<uint8_t>(data.begin(), data.end()));
}

TEST(IdxTest, PlainFileAndLabelsRoundTrip) {
  TempDir dir;
  files::write_file(dir / "labels", files::idx_u8({4}, {9, 0, 3, 255}), false);
  Tensor t = read_idx(dir / "labels");
  EXPECT_EQ(t.shape(), (Shape{4}));
  EXPECT_EQ(to_vector<uint8_t>(t), (std::vector<uint8_t>{9, 0, 3, 255}));
}

TEST(IdxTest, WideTypesAreBigEndian) {
  TempDir dir;
  Bytes i32 = files::idx_header(0x0C, {2});
  files::append_be32(i32, static_cast<uint32_t>(-5));
  files::append_be32(i32, 70000);
  files::write_file(dir / "i32.gz", i32, true);
  EXPECT_EQ(to_vector<int32_t>(read_idx(dir / "i32.gz")), (std::vector<int32_t>{-5, 70000}));

  Bytes i16 = files::idx_header(0x0B, {2});
  for (uint8_t b : {0xFF, 0xFE, 0x01, 0x00}) i16.push_back(b);  // -2, 256
  files::write_file(dir / "i16", i16, false);
  Tensor widened = read_idx(dir / "i16");
  EXPECT_EQ(widened.dtype(), DType::i32);
  EXPECT_EQ(to_vector<int32_t>(widened), (std::vector<int32_t>{-2, 256}));

  Bytes f32 = files::idx_header(0x0D, {1, 2});
  for (float v : {1.5f, -0.25f}) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    files::append_be32(f32, bits);
  }
  files::write_file(dir / "f32", f32, false);
  Tensor floats = read_idx(dir / "f32", 2);
  EXPECT_EQ(floats.shape(), (Shape{1, 2}));
  EXPECT_EQ(to_vector<float>(floats), (std::vector<float>{1.5f, -0.25f}));

  Bytes f64 = files::idx_header(0x0E, {1});
  const double d = -3.125;
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  files::append_be32(f64, static_cast<uint32_t>(bits >> 32));
  files::append_be32(f64, static_cast<uint32_t>(bits));
  files::write_file(dir / "f64.gz", f64, true);
  EXPECT_EQ(to_vector<double>(read_idx(dir / "f64.gz")), (std::vector<double>{-3.125}));
}

TEST(IdxTest, EmptyArray) {
  TempDir dir;
  files::write_file(dir / "e", files::idx_u8({0, 28, 28}, {}), true);
  EXPECT_EQ(read_idx(dir / "e").shape(), (Shape{0, 28, 28}));
}

TEST(IdxTest, MissingFile) {
  TempDir dir;
  const std::string msg = error_of([&] { read_idx(dir / "nope.gz"); });
  EXPECT_THAT(msg, HasSubstr((dir / "nope.gz").string()));
  EXPECT_THAT(msg, HasSubstr("no such file"));
}

TEST(IdxTest, TruncatedDataNamesFileAndOffset) {
  TempDir dir;
  // The header declares 10 x 28 x 28 bytes; 100 follow it, so the data ends at byte 16 + 100.
  for (bool gzip : {false, true}) {
    const auto path = dir / (gzip ? "short.gz" : "short");
    files::write_file(path, files::idx_u8({10, 28, 28}, Bytes(100, 1)), gzip);
    const std::string msg = error_of([&] { read_idx(path); });
    EXPECT_THAT(msg, HasSubstr(path.string()));
    EXPECT_THAT(msg, HasSubstr("truncated data"));
    EXPECT_THAT(msg, HasSubstr("at byte 116"));
    EXPECT_THAT(msg, HasSubstr("[10, 28, 28]"));
  }
}

TEST(IdxTest, TruncatedGzipStream) {
  TempDir dir;
  Bytes data(5000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
  files::write_file(dir / "full.gz", files::idx_u8({5000}, data), true);
  Bytes compressed = files::read_bytes(dir / "full.gz");
  compressed.resize(compressed.size() / 2);
  files::write_file(dir / "cut.gz", compressed, false);
  const std::string msg = error_of([&] { read_idx(dir / "cut.gz"); });
  EXPECT_THAT(msg, HasSubstr((dir / "cut.gz").string()));
  EXPECT_THAT(msg, HasSubstr("gzip stream ends prematurely"));
  EXPECT_THAT(msg, HasSubstr("of the decompressed data"));
}

TEST(IdxTest, CorruptGzipData) {
  TempDir dir;
  files::write_file(dir / "full.gz", files::idx_u8({2000}, Bytes(2000, 42)), true);
  Bytes compressed = files::read_bytes(dir / "full.gz");
  // Damage the stored CRC-32 in the gzip trailer: inflate succeeds, the check fails.
  compressed[compressed.size() - 8] ^= 0xFF;
  files::write_file(dir / "crc.gz", compressed, false);
  const std::string msg = error_of([&] { read_idx(dir / "crc.gz"); });
  EXPECT_THAT(msg, HasSubstr((dir / "crc.gz").string()));
  EXPECT_THAT(msg, HasSubstr("gzip error"));
}

TEST(IdxTest, BadMagic) {
  TempDir dir;
  Bytes bytes = files::idx_u8({2}, {1, 2});
  bytes[0] = 0x12;
  bytes[1] = 0x34;
  files::write_file(dir / "magic", bytes, false);
  const std::string msg = error_of([&] { read_idx(dir / "magic"); });
  EXPECT_THAT(msg, HasSubstr((dir / "magic").string()));
  EXPECT_THAT(msg, HasSubstr("bad magic number 0x12340801 at byte 0"));
}

TEST(IdxTest, UnknownTypeCode) {
  TempDir dir;
  files::write_file(dir / "type", files::idx_header(0x07, {1}), false);
  EXPECT_THAT(error_of([&] { read_idx(dir / "type"); }), HasSubstr("unknown element type code 0x07 at byte 2"));
}

TEST(IdxTest, RankMismatch) {
  TempDir dir;
  files::write_file(dir / "images.gz", files::idx_u8({1, 2, 2}, {1, 2, 3, 4}), true);
  const std::string msg = error_of([&] { read_idx(dir / "images.gz", 1); });
  EXPECT_THAT(msg, HasSubstr((dir / "images.gz").string()));
  EXPECT_THAT(msg, HasSubstr("rank 3 at byte 3 of the decompressed data, expected rank 1"));
}

TEST(IdxTest, TruncatedHeader) {
  TempDir dir;
  files::write_file(dir / "tiny", {0, 0}, false);
  EXPECT_THAT(error_of([&] { read_idx(dir / "tiny"); }), HasSubstr("truncated header: the file ends at byte 2"));
  Bytes bytes = files::idx_header(0x08, {60000, 28, 28});
  bytes.resize(10);  // cut inside the second dimension
  files::write_file(dir / "dims", bytes, false);
  const std::string msg = error_of([&] { read_idx(dir / "dims"); });
  EXPECT_THAT(msg, HasSubstr("truncated header: the file ends at byte 10"));
  EXPECT_THAT(msg, HasSubstr("bytes 4 to 15"));
}

TEST(IdxTest, HugeHeaderClaimIsRejectedWithoutAllocating) {
  TempDir dir;
  // 65535 x 65535 x 1000 bytes is about 4 TB: reading must fail on the small file, not allocate.
  for (bool gzip : {false, true}) {
    const auto path = dir / (gzip ? "huge.gz" : "huge");
    files::write_file(path, files::idx_u8({65535, 65535, 1000}, Bytes(64, 0)), gzip);
    const std::string msg = error_of([&] { read_idx(path); });
    EXPECT_THAT(msg, HasSubstr("truncated data"));
    EXPECT_THAT(msg, HasSubstr("at byte 80"));
  }
  files::write_file(dir / "overflow", files::idx_u8({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, {}), false);
  EXPECT_THAT(error_of([&] { read_idx(dir / "overflow"); }), HasSubstr("impossibly large"));
}

TEST(IdxTest, TrailingBytes) {
  TempDir dir;
  files::write_file(dir / "long", files::idx_u8({2}, {1, 2, 3}), false);
  const std::string msg = error_of([&] { read_idx(dir / "long"); });
  EXPECT_THAT(msg, HasSubstr((dir / "long").string()));
  EXPECT_THAT(msg, HasSubstr("unexpected data at byte 10"));
}

// Damaged files, plain and gzip: each loads or is an Error naming the file, never a crash or an
// allocation of a corrupted size (the sanitizer build runs this too).
TEST(IdxTest, CorruptedFilesFailWithAnErrorOrLoad) {
  TempDir dir;
  Bytes data(2 * 3 * 4);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  const Bytes valid = files::idx_u8({2, 3, 4}, data);
  const auto copies = test_support::corruptions(std::string(valid.begin(), valid.end()), 2, 400);
  for (bool gzip : {false, true}) {
    const auto path = dir / (gzip ? "c.gz" : "c");
    const int rejected = test_support::expect_only_errors(copies, [&](const std::string& bytes) {
      files::write_file(path, Bytes(bytes.begin(), bytes.end()), gzip);
      try {
        read_idx(path, 3);
      } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr(path.string()));
        throw;
      }
    });
    EXPECT_GT(rejected, 100) << (gzip ? "gzip" : "plain");
  }
}

}  // namespace
}  // namespace dendrite::data
