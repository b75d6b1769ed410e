// Safetensors: round trips of every dtype, the exact bytes the spec prescribes (both directions:
// a file built by hand byte by byte is read, and our writer's bytes are checked against the
// layout), atomic replacement, and an error naming the file, tensor and field for each kind of
// corrupt file.
#include "dendrite/train/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "dendrite/dendrite.h"
#include "support/corrupt.h"
#include "train_test_util.h"

namespace dendrite::train {
namespace {

using testing::bytes_of;
using testing::error_of;
using testing::ScratchDir;

std::string u64_le(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

// A file whose header is `json` (unpadded) followed by `data`.
std::string file_bytes(const std::string& json, const std::string& data = {}) {
  return u64_le(json.size()) + json + data;
}

std::string decode_error(const std::string& bytes) {
  return error_of([&] { decode_safetensors(bytes, "ckpt.safetensors"); });
}

TEST(Safetensors, RoundTripsEveryDType) {
  nn::NamedTensors tensors;
  for (int i = 0; i < kNumDTypes; ++i) {
    DType dtype = static_cast<DType>(i);
    Tensor t = arange(-3, 3, 1, DType::f64).reshape({2, 3}).to(dtype);
    tensors.emplace_back(fmt::format("t.{}", name(dtype)), t);
  }
  tensors.emplace_back("scalar", scalar_tensor(2.5, DType::f64));
  tensors.emplace_back("empty", zeros({0, 4}));
  Metadata metadata{{"format", "pt"}, {"step", "12"}};
  ScratchDir dir;
  save_safetensors(dir / "a.safetensors", tensors, metadata);
  Safetensors loaded = load_safetensors(dir / "a.safetensors");

  ASSERT_EQ(loaded.tensors.size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(loaded.tensors[i].first, tensors[i].first) << "header order is the caller's order";
    EXPECT_EQ(loaded.tensors[i].second.dtype(), tensors[i].second.dtype());
    EXPECT_EQ(loaded.tensors[i].second.shape(), tensors[i].second.shape());
    EXPECT_EQ(bytes_of(loaded.tensors[i].second), bytes_of(tensors[i].second)) << tensors[i].first;
  }
  EXPECT_EQ(loaded.metadata, metadata);
  EXPECT_EQ(*loaded.find_metadata("step"), "12");
  ASSERT_NE(loaded.find("t.i64"), nullptr);
  EXPECT_EQ(loaded.find("missing"), nullptr);
}

TEST(Safetensors, NonContiguousTensorsAreWrittenRowMajor) {
  Tensor t = arange(0, 6, 1, DType::f32).reshape({2, 3}).t();
  Safetensors loaded = decode_safetensors(encode_safetensors({{"t", t}}), "mem");
  EXPECT_EQ(to_vector<float>(loaded.tensors[0].second), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(Safetensors, WriterProducesTheSpecBytes) {
  Tensor t = tensor<float>({1.0f, -2.5f});
  std::string json = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ASSERT_EQ(json.size(), 54u);
  // 0x3f800000 is 1.0f and 0xc0200000 is -2.5f; the header is padded with two spaces to 56 bytes.
  std::string expected = u64_le(56) + json + "  " + std::string("\x00\x00\x80\x3f\x00\x00\x20\xc0", 8);
  EXPECT_EQ(encode_safetensors({{"a", t}}), expected);
}

TEST(Safetensors, MetadataComesFirstAndHeaderIsPaddedTo8) {
  std::string bytes = encode_safetensors({{"w", ones({3}, DType::u8)}}, {{"k", "v"}});
  uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, bytes.data(), 8);
  EXPECT_EQ(header_bytes % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + header_bytes + 3);
  EXPECT_EQ(bytes.substr(8, 26), R"({"__metadata__":{"k":"v"},)");
}

TEST(Safetensors, WidestElementsComeFirstInTheData) {
  // A u8 tensor of odd length before an f64 one would misalign the f64 for readers that map the
  // file; the writer puts the f64 first in the data while keeping the header's order.
  nn::NamedTensors tensors{{"bytes", ones({3}, DType::u8)}, {"wide", ones({2}, DType::f64)}};
  std::string bytes = encode_safetensors(tensors);
  uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, bytes.data(), 8);
  std::string header = bytes.substr(8, header_bytes);
  EXPECT_CONTAINS(header, R"("bytes":{"dtype":"U8","shape":[3],"data_offsets":[16,19]})");
  EXPECT_CONTAINS(header, R"("wide":{"dtype":"F64","shape":[2],"data_offsets":[0,16]})");
  Safetensors loaded = decode_safetensors(bytes, "mem");
  EXPECT_EQ(loaded.tensors[0].first, "bytes");
  EXPECT_EQ(to_vector<double>(loaded.tensors[1].second), (std::vector<double>{1, 1}));
}

TEST(Safetensors, ReadsAFileWrittenByHandToTheSpec) {
  // Built byte by byte: a header with metadata, spaces before and after the JSON as padding, tensors
  // listed out of data order, a bf16 and a 0-d i64.
  std::string json = R"( {"b":{"dtype":"I64","shape":[],"data_offsets":[8,16]},)"
                     R"("__metadata__":{"format":"pt"},)"
                     R"("a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}}   )";
  std::string data;
  for (uint16_t bits : {0x3f80, 0x4000, 0xbf80, 0x0000}) {  // bf16 1, 2, -1, 0
    data += static_cast<char>(bits & 0xff);
    data += static_cast<char>(bits >> 8);
  }
  data += std::string("\x07\x00\x00\x00\x00\x00\x00\x00", 8);  // i64 7
  ScratchDir dir;
  {
    std::ofstream out(dir / "hand.safetensors", std::ios::binary);
    out << file_bytes(json, data);
  }
  Safetensors loaded = load_safetensors(dir / "hand.safetensors");
  ASSERT_EQ(loaded.tensors.size(), 2u);
  EXPECT_EQ(loaded.tensors[0].first, "b");
  EXPECT_EQ(loaded.tensors[0].second.shape(), Shape{});
  EXPECT_EQ(loaded.tensors[0].second.item<int64_t>(), 7);
  EXPECT_EQ(loaded.tensors[1].first, "a");
  EXPECT_EQ(loaded.tensors[1].second.dtype(), DType::bf16);
  EXPECT_EQ(to_vector<float>(loaded.tensors[1].second), (std::vector<float>{1, 2, -1, 0}));
  EXPECT_EQ(loaded.metadata, (Metadata{{"format", "pt"}}));
}

TEST(Safetensors, EmptyFileHasAnEmptyHeader) {
  Safetensors loaded = decode_safetensors(encode_safetensors({}), "mem");
  EXPECT_TRUE(loaded.tensors.empty());
  EXPECT_TRUE(loaded.metadata.empty());
}

TEST(Safetensors, SaveReplacesAtomicallyAndLeavesNoTemporary) {
  ScratchDir dir;
  save_safetensors(dir / "w.safetensors", {{"x", zeros({2})}});
  save_safetensors(dir / "w.safetensors", {{"x", ones({3})}});
  EXPECT_EQ(load_safetensors(dir / "w.safetensors").tensors[0].second.shape(), Shape{3});
  EXPECT_FALSE(std::filesystem::exists(dir / "w.safetensors.tmp"));
}

TEST(Safetensors, FailedSaveLeavesThePreviousFileIntact) {
  ScratchDir dir;
  save_safetensors(dir / "w.safetensors", {{"x", zeros({2})}});
  std::filesystem::create_directory(dir / "w.safetensors.tmp");  // the temporary cannot be opened
  std::string message = error_of([&] { save_safetensors(dir / "w.safetensors", {{"x", ones({3})}}); });
  EXPECT_CONTAINS(message, "w.safetensors.tmp: open failed");
  EXPECT_EQ(load_safetensors(dir / "w.safetensors").tensors[0].second.shape(), Shape{2});
}

TEST(SafetensorsErrors, WriterRejectsBadNames) {
  EXPECT_EQ(error_of([] {
              encode_safetensors({{"x", zeros({1})}, {"x", zeros({1})}});
            }),
            "save_safetensors: duplicate tensor name 'x'");
  EXPECT_EQ(error_of([] {
              encode_safetensors({{"__metadata__", zeros({1})}});
            }),
            "save_safetensors: '__metadata__' is reserved and cannot name a tensor");
  EXPECT_EQ(error_of([] { encode_safetensors({{"", zeros({1})}}); }), "save_safetensors: a tensor has an empty name");
  EXPECT_EQ(error_of([] { encode_safetensors({{"u", Tensor()}}); }), "save_safetensors: tensor 'u' is undefined");
  ScratchDir dir;
  EXPECT_CONTAINS(error_of([&] {
                    save_safetensors(dir / "x.safetensors", {{"x", Tensor()}});
                  }),
                  "x.safetensors: save_safetensors: tensor 'x' is undefined");
}

TEST(SafetensorsErrors, MissingFileNamesThePath) {
  EXPECT_EQ(error_of([] { load_safetensors("/nonexistent/w.safetensors"); }),
            "/nonexistent/w.safetensors: cannot open: No such file or directory");
}

TEST(SafetensorsErrors, TruncatedBeforeTheHeaderLength) {
  EXPECT_EQ(decode_error("abc"),
            "ckpt.safetensors: truncated safetensors file: 3 bytes, fewer than the 8-byte header length");
}

TEST(SafetensorsErrors, HeaderLengthBeyondTheFile) {
  EXPECT_EQ(decode_error(u64_le(1000) + "{}"),
            "ckpt.safetensors: header length 1000 (the u64 at byte 0) exceeds the 2 bytes after it (truncated file?)");
}

TEST(SafetensorsErrors, TruncatedData) {
  std::string full = encode_safetensors({{"w", ones({4, 4})}});
  EXPECT_CONTAINS(decode_error(full.substr(0, full.size() - 10)),
                  "ckpt.safetensors: tensor 'w': data_offsets [0, 64] (file bytes 72 to 136) run past the end of the "
                  "data (54 bytes from file byte 72; truncated file?)");
}

TEST(SafetensorsErrors, BadJsonNamesTheByte) {
  std::string message = decode_error(file_bytes(R"({"a": {"dtype": F32}})"));
  EXPECT_CONTAINS(message, "ckpt.safetensors: header (file bytes 8 to 29) is not valid JSON: error at file byte 24");
}

TEST(SafetensorsErrors, HeaderMustBeAnObject) {
  EXPECT_EQ(decode_error(file_bytes("[1, 2]")), "ckpt.safetensors: header must be a JSON object, got array");
}

TEST(SafetensorsErrors, UnknownDType) {
  EXPECT_EQ(decode_error(file_bytes(R"({"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", "x")),
            "ckpt.safetensors: tensor 'w': unknown dtype \"F8_E4M3\" (known: F32, F64, BF16, F16, I8, U8, I32, I64)");
}

TEST(SafetensorsErrors, MissingAndMistypedFields) {
  EXPECT_EQ(decode_error(file_bytes(R"({"w":{"dtype":"F32","shape":[1]}})")),
            "ckpt.safetensors: tensor 'w': field 'data_offsets' is missing");
  EXPECT_EQ(decode_error(file_bytes(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})")),
            "ckpt.safetensors: tensor 'w': field 'shape' must hold non-negative integers, got -1");
  EXPECT_EQ(decode_error(file_bytes(R"({"w":{"dtype":"F32","shape":3,"data_offsets":[0,4]}})")),
            "ckpt.safetensors: tensor 'w': field 'shape' must be an array, got 3");
  EXPECT_EQ(decode_error(file_bytes(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})")),
            "ckpt.safetensors: tensor 'w': field 'data_offsets' must be [begin, end], got [0]");
  EXPECT_EQ(decode_error(file_bytes(R"({"w":[1]})")),
            "ckpt.safetensors: tensor 'w': entry must be an object with dtype, shape and data_offsets, got [1]");
  EXPECT_EQ(decode_error(file_bytes(R"({"__metadata__":{"step":3}})")),
            "ckpt.safetensors: '__metadata__' key 'step' must be a string, got 3");
}

TEST(SafetensorsErrors, ShapeDisagreesWithOffsets) {
  EXPECT_EQ(
      decode_error(file_bytes(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,12]}})", std::string(12, 'x'))),
      "ckpt.safetensors: tensor 'w': shape [2, 3] of F32 needs 24 bytes, but data_offsets [0, 12] span 12");
  EXPECT_EQ(decode_error(file_bytes(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})")),
            "ckpt.safetensors: tensor 'w': data_offsets [4, 0] end before they begin");
}

TEST(SafetensorsErrors, OffsetsOutOfRange) {
  EXPECT_EQ(decode_error(file_bytes(R"({"w":{"dtype":"I32","shape":[2],"data_offsets":[4,12]}})", std::string(8, 'x'))),
            "ckpt.safetensors: tensor 'w': data_offsets [4, 12] (file bytes 67 to 75) run past the end of the "
            "data (8 bytes from file byte 63; truncated file?)");
}

TEST(SafetensorsErrors, OverlappingTensors) {
  std::string json = R"({"a":{"dtype":"U8","shape":[6],"data_offsets":[0,6]},)"
                     R"("b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})";
  EXPECT_EQ(decode_error(file_bytes(json, std::string(8, 'x'))),
            "ckpt.safetensors: tensor 'b': data_offsets [4, 8] overlap tensor 'a' at [0, 6]");
}

TEST(SafetensorsErrors, BytesThatBelongToNoTensor) {
  std::string gap = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                    R"("b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}})";
  EXPECT_EQ(decode_error(file_bytes(gap, std::string(6, 'x'))),
            "ckpt.safetensors: data bytes [2, 4) before tensor 'b' belong to no tensor");
  std::string tail = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})";
  EXPECT_EQ(decode_error(file_bytes(tail, std::string(5, 'x'))),
            "ckpt.safetensors: data bytes [2, 5) after the last tensor belong to no tensor");
}

TEST(SafetensorsErrors, DuplicateNames) {
  std::string json = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                     R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})";
  EXPECT_EQ(decode_error(file_bytes(json, "xy")), "ckpt.safetensors: tensor 'a' appears twice in the header");
}

// Any damage to a checkpoint's bytes is either harmless or an Error naming the file: never a
// crash, an allocation the size of a corrupted number, or a read past the buffer (the sanitizer
// build runs this too).
TEST(SafetensorsErrors, CorruptedFilesFailWithAnErrorOrLoad) {
  nn::NamedTensors tensors;
  tensors.emplace_back("w", arange(0, 12, 1, DType::f32).reshape({3, 4}));
  tensors.emplace_back("b", arange(0, 3, 1, DType::f64));
  tensors.emplace_back("step", scalar_tensor(7, DType::i64));
  const std::string valid = encode_safetensors(tensors, {{"format", "pt"}});
  const auto copies = test_support::corruptions(valid, 1, 3000);
  const int rejected = test_support::expect_only_errors(copies, [](const std::string& bytes) {
    try {
      decode_safetensors(bytes, "ckpt.safetensors");
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("ckpt.safetensors", 0), 0u) << e.what();
      throw;
    }
  });
  // Most damage is noticed: a flipped bit inside the data of a float can pass unnoticed.
  EXPECT_GT(rejected, 3000 / 2);
}

}  // namespace
}  // namespace dendrite::train
