// `dendrite train|predict|eval` on a g2p recipe, in-process through run_cli, on a small generated
// dictionary (one run shared by the suite), and the bad-input paths of the issue: unknown letters
// (a warning, not a crash), an empty word (an empty pronunciation), a word over the model's limit
// and a malformed dictionary line (errors naming the limit and the line).
#include "dendrite/cli/g2p.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli_test_util.h"
#include "data/test_files.h"
#include "dendrite/cli/commands.h"
#include "dendrite/cli/recipe_files.h"
#include "dendrite/core/error.h"
#include "support/errors.h"

namespace dendrite::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

using testing::Result;
Result run(std::vector<std::string> args) { return testing::run_dendrite(std::move(args)); }

// Words over the letters A-F whose "pronunciation" spells each letter as a phoneme, with a few
// alternates, so the split has words in every part. `last` is appended to every pronunciation.
void write_dictionary(const fs::path& path, int words, const std::string& last = "") {
  static const char* sounds[] = {"AA1", "B", "K", "D", "EH0", "F"};
  std::ofstream out(path);
  out << ";;; generated for the tests\n";
  for (int i = 0; i < words; ++i) {
    std::string word, pron;
    for (int k = i, n = 0; n < 2 + i % 3; ++n, k /= 6) {
      word += static_cast<char>('A' + k % 6);
      if (!pron.empty()) pron += ' ';
      pron += sounds[k % 6];
    }
    out << fmt::format("{}  {}{}\n", word, pron, last);
    if (i % 17 == 0) out << fmt::format("{}(1)  {} Z\n", word, pron);
  }
}

// The pronunciation write_dictionary gives a word.
std::string spelled(const std::string& word) {
  static const char* sounds[] = {"AA1", "B", "K", "D", "EH0", "F"};
  std::string out;
  for (char c : word) out += fmt::format("{}{}", out.empty() ? "" : " ", sounds[c - 'A']);
  return out;
}

// A suite whose tests share one training run, which the suite's SetUpTestSuite makes: a scratch
// directory holding the generated dictionary and the run directory. `Suite` gives each suite its
// own run.
template <typename Suite>
class TrainedOnce : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { tmp_.reset(); }
  static fs::path dict() { return tmp_->path() / "dict.txt"; }
  static std::string run_dir() { return (tmp_->path() / "run").string(); }

  static inline std::unique_ptr<data::files::TempDir> tmp_;
  static inline Result trained_;
};

class G2PCommand : public TrainedOnce<G2PCommand> {
 protected:
  static void SetUpTestSuite() {
    tmp_ = std::make_unique<data::files::TempDir>();
    write_dictionary(dict(), 240);
    Result r = run({"train",    "g2p-lstm",
                    "--out",    run_dir(),
                    "--epochs", "1",
                    "--batch",  "32",
                    "--set",    fmt::format("data.dir={}", dict().string()),
                    "--set",    "model.embed=8",
                    "--set",    "model.encoder_hidden=8",
                    "--set",    "model.decoder_hidden=16",
                    "--set",    "model.max_length=12",
                    "--set",    "decode.beam=3"});
    trained_ = r;
  }
};

TEST_F(G2PCommand, TrainWritesTheRunDirectory) {
  ASSERT_EQ(trained_.status, 0) << trained_.out << trained_.err;
  EXPECT_THAT(trained_.out, HasSubstr("test WER"));
  for (const char* f :
       {"config.toml", "graphemes.txt", "phonemes.txt", "metrics.jsonl", "summary.json", "curves.svg", "best", "last"})
    EXPECT_TRUE(fs::exists(fs::path(run_dir()) / f)) << f;
  std::ifstream in(fs::path(run_dir()) / "summary.json");
  const nlohmann::json summary = nlohmann::json::parse(in);
  for (const char* key : {"wer", "per", "test_greedy_wer", "test_greedy_per", "test_beam_wer", "test_beam_per",
                          "dev_greedy_wer", "train_seconds", "test_beam_words_per_sec", "wer_no_stress",
                          "test_greedy_wer_no_stress", "test_beam_per_no_stress", "dev_greedy_wer_no_stress"})
    EXPECT_TRUE(summary.contains(key)) << key;
  EXPECT_EQ(summary["beam"], 3);
}

TEST_F(G2PCommand, PredictPrintsOneLinePerWordAndWarnsOnUnknownLetters) {
  Result r = run({"predict", run_dir(), "abc", "fed", "ax9"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::vector<std::string> got;
  while (std::getline(lines, line)) got.push_back(line);
  ASSERT_EQ(got.size(), 3u) << r.out;
  EXPECT_THAT(got[0], ::testing::StartsWith("abc  "));
  EXPECT_THAT(r.err, HasSubstr("warning: \"ax9\": 9 X not in the training alphabet, read as <unk>"));
}

TEST_F(G2PCommand, PredictEmptyWordGivesAnEmptyPronunciation) {
  Result r = run({"predict", run_dir(), "", "ab"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::StartsWith("  \nab  "));
}

TEST_F(G2PCommand, PredictNBest) {
  Result r = run({"predict", run_dir(), "abc", "--beam", "3", "--nbest", "3"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("abc  1  "));
  EXPECT_THAT(r.out, HasSubstr("abc  3  "));
  Result bad = run({"predict", run_dir(), "abc", "--beam", "2", "--nbest", "4"});
  EXPECT_EQ(bad.status, 1);
  EXPECT_THAT(bad.err, HasSubstr("--nbest must be in [1, --beam = 2], got 4"));
}

TEST_F(G2PCommand, PredictTooLongWordNamesTheLimit) {
  Result r = run({"predict", run_dir(), "abcdefabcdefa"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("\"abcdefabcdefa\" has 13 characters; the model accepts at most 12 (model.max_length)"));
}

TEST_F(G2PCommand, EvalReportsGreedyAndBeam) {
  Result r = run({"eval", run_dir()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("greedy:  WER"));
  EXPECT_THAT(r.out, HasSubstr("beam 3:  WER"));
  EXPECT_THAT(r.out, HasSubstr("stress ignored, beam 3:  WER"));
  EXPECT_THAT(r.out, HasSubstr("test_beam_wer_no_stress "));
}

// --split dev decodes the dev words with the best checkpoint, as training's own final dev
// evaluation did: the same greedy WER as summary.json's. --beam and --length-penalty override the recipe.
TEST_F(G2PCommand, EvalDecodesTheDevSplitWithTheGivenBeam) {
  Result r = run({"eval", run_dir(), "--split", "dev", "--beam", "2", "--length-penalty", "0.5"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(" dev words"));
  EXPECT_THAT(r.out, HasSubstr("beam 2:  WER"));
  EXPECT_THAT(r.out, HasSubstr("length penalty 0.5)"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("test_")));
  const std::string key = "dev_greedy_wer ";
  ASSERT_THAT(r.out, HasSubstr(key));
  const double wer = std::stod(r.out.substr(r.out.find(key) + key.size()));
  std::ifstream in(fs::path(run_dir()) / "summary.json");
  EXPECT_NEAR(wer, nlohmann::json::parse(in)["dev_greedy_wer"].get<double>(), 1e-6) << r.out;
}

TEST_F(G2PCommand, EvalBadBeamOrLengthPenaltyIsAnError) {
  Result beam = run({"eval", run_dir(), "--beam", "0"});
  EXPECT_EQ(beam.status, 1);
  EXPECT_THAT(beam.err, HasSubstr("--beam must be >= 1, got 0"));
  Result alpha = run({"eval", run_dir(), "--length-penalty", "-1"});
  EXPECT_EQ(alpha.status, 1);
  EXPECT_THAT(alpha.err, HasSubstr("--length-penalty must be a number >= 0, got -1"));
}

// --errors lists exactly the words beam search got wrong: as many lines as WER x words, each with
// the word, the prediction, the references, the phoneme distance and the stress flag.
TEST_F(G2PCommand, EvalErrorsListsTheWrongWords) {
  const fs::path file = tmp_->path() / "errors.tsv";
  Result r = run({"eval", run_dir(), "--errors", file.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream in(file);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line, "word\tpredicted\treferences\tphoneme_errors\tstress_only");
  int64_t rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    std::vector<std::string> cells;
    std::stringstream fields(line);
    for (std::string cell; std::getline(fields, cell, '\t');) cells.push_back(cell);
    ASSERT_EQ(cells.size(), 5u) << line;
    EXPECT_THAT(cells[0], ::testing::MatchesRegex("[A-F]+")) << line;
    EXPECT_NE(cells[1], cells[2]) << line;
    EXPECT_GE(std::stoll(cells[3]), 0) << line;
    EXPECT_TRUE(cells[4] == "yes" || cells[4] == "no") << line;
  }
  const int64_t words = std::stoll(r.out.substr(r.out.find(": ") + 2));
  const std::string key = "test_beam_wer ";
  const double wer = std::stod(r.out.substr(r.out.find(key) + key.size()));
  EXPECT_GT(rows, 0) << "the one-epoch model gets words wrong: " << r.out;
  EXPECT_EQ(rows, std::llround(wer * static_cast<double>(words))) << r.out;
  EXPECT_THAT(r.out, HasSubstr(fmt::format("{} wrong words (beam 3) written to {}", rows, file.string())));
}

TEST_F(G2PCommand, EvalErrorsToAnUnwritablePathFailsBeforeDecoding) {
  Result r = run({"eval", run_dir(), "--errors", (tmp_->path() / "no-such-dir" / "e.tsv").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("--errors: cannot write "));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("greedy:")));
}

TEST_F(G2PCommand, EvalAcceptsARunWhoseConfigPredatesLaterKeys) {
  const fs::path old = tmp_->path() / "old-run";
  fs::copy(run_dir(), old, fs::copy_options::recursive);
  std::ifstream in(old / "config.toml");
  std::string text, line;
  while (std::getline(in, line)) {
    bool added = false;
    for (const char* key :
         {"d_model =", "heads =", "feedforward =", "decoder_layers =", "positions =", "decoder_lstm_layers ="})
      added = added || line.rfind(key, 0) == 0;
    if (!added) text += line + "\n";
  }
  in.close();
  std::ofstream(old / "config.toml") << text;
  Result r = run({"eval", old.string(), "--limit-test", "5"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("stress ignored, greedy:  WER"));
}

// The same commands on the Transformer architecture (a tiny one: the suite must stay fast).
// The line of `dendrite eval` with the four test scores.
std::string scores_line(const std::string& out) {
  const size_t at = out.find("test_greedy_wer ");
  return at == std::string::npos ? "" : out.substr(at, out.find('\n', at) - at);
}

TEST_F(G2PCommand, EvalEnsembleOfARunWithItselfScoresAsTheRun) {
  Result alone = run({"eval", run_dir()});
  Result twice = run({"eval", run_dir(), "--ensemble", run_dir()});
  ASSERT_EQ(alone.status, 0) << alone.err;
  ASSERT_EQ(twice.status, 0) << twice.err;
  EXPECT_THAT(twice.out, HasSubstr(fmt::format("ensemble of 2 models: {}, {}", run_dir(), run_dir())));
  EXPECT_FALSE(scores_line(alone.out).empty()) << alone.out;
  // The mean of two equal distributions is that distribution: the same words, the same scores.
  EXPECT_EQ(scores_line(twice.out), scores_line(alone.out));
}

TEST_F(G2PCommand, PredictEnsembleKeepsTheWordsPositional) {
  Result r = run({"predict", run_dir(), "--ensemble", run_dir(), "abc", "fed"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("abc  "));
  EXPECT_THAT(r.out, HasSubstr("fed  "));
}

TEST_F(G2PCommand, EnsembleOfRunsWithOtherVocabulariesNamesTheFile) {
  // The same phonemes in another order: the model loads, but its ids mean other phonemes.
  const fs::path other = tmp_->path() / "reordered";
  fs::copy(run_dir(), other, fs::copy_options::recursive);
  std::vector<std::string> lines;
  {
    std::ifstream in(other / "phonemes.txt");
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  ASSERT_GE(lines.size(), 6u);
  std::swap(lines[lines.size() - 1], lines[lines.size() - 2]);
  {
    std::ofstream out(other / "phonemes.txt");
    for (const std::string& line : lines) out << line << '\n';
  }
  Result r = run({"eval", run_dir(), "--ensemble", other.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr(fmt::format("--ensemble {}: its phonemes.txt differs from {}'s (every model must "
                                           "write the same phonemes)",
                                           other.string(), run_dir())));
}

// A right-to-left run (data.reverse_target) beside a left-to-right one. The right-to-left run is
// trained long enough to learn its training words (each letter one phoneme), so that what it says
// can be checked; the left-to-right one only needs to exist (one epoch).
class G2PRightToLeft : public TrainedOnce<G2PRightToLeft> {
 protected:
  static std::string left_to_right() { return (tmp_->path() / "l2r").string(); }
  static void SetUpTestSuite() {
    tmp_ = std::make_unique<data::files::TempDir>();
    write_dictionary(dict(), 240);
    for (const bool reverse : {true, false}) {
      Result r = run({"train",    "g2p-lstm",
                      "--out",    reverse ? run_dir() : left_to_right(),
                      "--epochs", reverse ? "40" : "1",
                      "--batch",  "16",
                      "--lr",     "0.01",
                      "--set",    fmt::format("data.dir={}", dict().string()),
                      "--set",    fmt::format("data.reverse_target={}", reverse),
                      "--set",    "model.embed=16",
                      "--set",    "model.encoder_hidden=16",
                      "--set",    "model.encoder_layers=1",
                      "--set",    "model.decoder_hidden=32",
                      "--set",    "model.dropout=0",
                      "--set",    "model.max_length=12",
                      "--set",    "decode.beam=3"});
      if (reverse || r.status != 0) trained_ = r;
    }
  }
  // Words of the training split, which the right-to-left run has learned.
  static std::vector<std::string> training_words(size_t count) {
    std::vector<std::string> out;
    for (const data::CmuWord& w : data::split_cmudict(data::read_cmudict(dict())).train)
      if (out.size() < count && w.pronunciations.size() == 1) out.push_back(w.word);
    return out;
  }
  // "WER x%  PER y%" of the first line of `out` that starts with `prefix`.
  static std::string rates_after(const std::string& out, const std::string& prefix) {
    const auto at = out.find(prefix);
    if (at == std::string::npos) return "(no line " + prefix + ")";
    const std::string line = out.substr(at + prefix.size(), out.find('\n', at) - at - prefix.size());
    return line.substr(0, line.find("  ("));
  }
};

TEST_F(G2PRightToLeft, LearnsReversedAndSpeaksFirstPhonemeFirst) {
  ASSERT_EQ(trained_.status, 0) << trained_.out << trained_.err;
  std::vector<std::string> args{"predict", run_dir()};
  const std::vector<std::string> words = training_words(6);
  ASSERT_EQ(words.size(), 6u);
  args.insert(args.end(), words.begin(), words.end());
  Result r = run(args);
  ASSERT_EQ(r.status, 0) << r.err;
  for (const std::string& w : words) EXPECT_THAT(r.out, HasSubstr(fmt::format("{}  {}\n", w, spelled(w))));
}

// Whatever the model learned: the Pronouncer says, first phoneme first, what the model wrote.
TEST_F(G2PRightToLeft, PronouncerReversesWhatTheModelWrites) {
  ASSERT_EQ(trained_.status, 0) << trained_.out << trained_.err;
  const Pronouncer p = Pronouncer::load(run_dir());
  const std::vector<std::vector<int64_t>> sources = {p.encode("abc", nullptr), p.encode("fedcab", nullptr)};
  const auto written = train::decode_sources(*p.model, sources, 4, {.max_length = {1}, .beam = 3, .nbest = 2});
  const auto said = p.pronounce_ids(sources, 3, 2);
  ASSERT_EQ(said.size(), 2u);
  for (size_t i = 0; i < said.size(); ++i) {
    ASSERT_EQ(said[i].size(), written[i].size());
    for (size_t k = 0; k < said[i].size(); ++k) {
      std::vector<int64_t> reversed = written[i][k].tokens;
      std::reverse(reversed.begin(), reversed.end());
      EXPECT_EQ(said[i][k].tokens, reversed);
    }
  }
}

// A system rescoring with itself ranks its n-best as its beam search did (every score doubled),
// reading the candidates in the direction it wrote them: the same WER and PER.
TEST_F(G2PRightToLeft, RescoringWithItselfKeepsTheRanking) {
  ASSERT_EQ(trained_.status, 0) << trained_.out << trained_.err;
  Result r = run({"eval", run_dir(), "--rescore", run_dir(), "--rescore-weight", "0", "--rescore-weight", "2.5"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out,
              HasSubstr(fmt::format("rescored with {} (right to left), each system's 3 best joined", run_dir())));
  const std::string beam = rates_after(r.out, "\nbeam 3:  ");
  EXPECT_THAT(beam, ::testing::StartsWith("WER ")) << r.out;
  EXPECT_EQ(rates_after(r.out, "rescorer alone, beam 3:  "), beam) << r.out;
  for (const char* w : {"0", "2.5"}) {
    EXPECT_EQ(rates_after(r.out, fmt::format("rescored (weight {}), beam 3:  ", w)), beam) << r.out;
    EXPECT_EQ(rates_after(r.out, fmt::format("stress ignored, rescored (weight {}):  ", w)),
              rates_after(r.out, "stress ignored, beam 3:  "));
  }
  EXPECT_THAT(r.out, HasSubstr("rescore_weight 2.5\n"));
  // Each system's n-best is the same list, so the joined one adds nothing, and no reranking beats
  // its oracle.
  const std::string prefix = "oracle (a reference among the candidates), beam 3:  this system's 3 best ";
  const auto at = r.out.find(prefix);
  ASSERT_NE(at, std::string::npos) << r.out;
  // WER a%  PER b%,  the rescorer's WER a%  PER b%,  joined (n candidates a word) WER a%  PER b%
  const std::string line = r.out.substr(at + prefix.size(), r.out.find('\n', at) - at - prefix.size());
  const std::string own = line.substr(0, line.find(','));
  EXPECT_THAT(own, ::testing::StartsWith("WER ")) << line;
  EXPECT_THAT(line, HasSubstr(",  the rescorer's " + own + ",  joined (")) << line;
  EXPECT_THAT(line, ::testing::EndsWith(" candidates a word) " + own)) << line;
  const auto joined = line.find("joined (");
  ASSERT_NE(joined, std::string::npos);
  EXPECT_LE(std::stod(line.substr(joined + 8)), 3.0) << line;
  EXPECT_THAT(r.out, ::testing::ContainsRegex("test_oracle_wer [0-9.]+  test_oracle_per [0-9.]+  "
                                              "test_oracle_candidates [0-9.]+\n"));
}

TEST_F(G2PRightToLeft, BadRescoreWeightIsAnError) {
  Result negative = run({"eval", run_dir(), "--rescore", run_dir(), "--rescore-weight", "-1"});
  EXPECT_EQ(negative.status, 1);
  EXPECT_THAT(negative.err, HasSubstr("--rescore-weight must be a number >= 0, got -1"));
  Result alone = run({"predict", run_dir(), "abc", "--rescore-weight", "0.5"});
  EXPECT_EQ(alone.status, 1);
  EXPECT_THAT(alone.err, HasSubstr("--rescore-weight: give --rescore RUN too"));
}

TEST_F(G2PRightToLeft, RescoresALeftToRightRunsNBest) {
  ASSERT_EQ(trained_.status, 0) << trained_.out << trained_.err;
  Result r = run({"eval", left_to_right(), "--rescore", run_dir()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("rescorer alone, beam 3:  WER "));
  EXPECT_THAT(r.out, HasSubstr("rescored (weight 1), beam 3:  WER "));
  EXPECT_THAT(r.out, HasSubstr("test_rescored_wer "));
  Result p = run(
      {"predict", left_to_right(), "--rescore", run_dir(), "abc", "fed", "--nbest", "2", "--rescore-weight", "0.5"});
  ASSERT_EQ(p.status, 0) << p.err;
  EXPECT_THAT(p.out, ::testing::ContainsRegex("abc  1  -[0-9.]+  [A-Z0-9 ]+\nabc  2  -[0-9.]+  [A-Z0-9 ]+\n"));
}

// --errors lists a right-to-left run's predictions and references first phoneme first. The run is
// evaluated against a dictionary whose pronunciations all end in Z, so that every word is wrong.
TEST_F(G2PRightToLeft, ErrorsListFirstPhonemeFirst) {
  ASSERT_EQ(trained_.status, 0) << trained_.out << trained_.err;
  const fs::path moved = tmp_->path() / "moved", changed = tmp_->path() / "dict-z.txt";
  fs::copy(run_dir(), moved, fs::copy_options::recursive);
  write_dictionary(changed, 240, " Z");
  std::string config;
  {
    std::ifstream in(moved / "config.toml");
    config.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto at = config.find(dict().string());
  ASSERT_NE(at, std::string::npos) << config;
  config.replace(at, dict().string().size(), changed.string());
  std::ofstream(moved / "config.toml") << config;

  const fs::path errors = tmp_->path() / "wrong.tsv";
  Result r = run({"eval", moved.string(), "--errors", errors.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("9 wrong words (beam 3)")) << r.out;
  std::ifstream in(errors);
  std::string line;
  std::getline(in, line);  // the header
  std::vector<std::string> words, predicted;
  for (; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string word, prediction, references;
    std::getline(fields, word, '\t');
    std::getline(fields, prediction, '\t');
    std::getline(fields, references, '\t');
    EXPECT_THAT(references, ::testing::StartsWith(spelled(word) + " Z")) << line;
    words.push_back(word);
    predicted.push_back(prediction);
  }
  ASSERT_EQ(words.size(), 9u);
  // The predictions as `predict` says them (whose order the tests above check).
  std::vector<std::string> args{"predict", moved.string(), "--beam", "3"};
  args.insert(args.end(), words.begin(), words.end());
  Result p = run(args);
  ASSERT_EQ(p.status, 0) << p.err;
  for (size_t i = 0; i < words.size(); ++i)
    EXPECT_THAT(p.out, HasSubstr(fmt::format("{}  {}\n", words[i], predicted[i])));
}

TEST_F(G2PRightToLeft, EnsembleOfBothDirectionsIsAnErrorPointingToRescore) {
  Result r = run({"eval", left_to_right(), "--ensemble", run_dir()});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr(fmt::format("--ensemble {}: it writes pronunciations right to left and {} left to "
                                           "right; members must write in one direction (a right-to-left run can "
                                           "rescore with --rescore instead)",
                                           run_dir(), left_to_right())));
}

TEST_F(G2PCommand, RescoreWithOtherVocabulariesNamesTheFile) {
  // The same letters in another order: the model loads, but its ids mean other letters.
  const fs::path other = tmp_->path() / "other-letters";
  fs::copy(run_dir(), other, fs::copy_options::recursive);
  std::vector<std::string> lines;
  {
    std::ifstream in(other / "graphemes.txt");
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  ASSERT_GE(lines.size(), 6u);
  std::swap(lines[lines.size() - 1], lines[lines.size() - 2]);
  {
    std::ofstream out(other / "graphemes.txt");
    for (const std::string& line : lines) out << line << '\n';
  }
  Result r = run({"predict", run_dir(), "--rescore", other.string(), "abc"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr(fmt::format("--rescore {}: its graphemes.txt differs from {}'s (both systems must read "
                                           "the same letters)",
                                           other.string(), run_dir())));
}

class G2PTransformerCommand : public TrainedOnce<G2PTransformerCommand> {
 protected:
  static void SetUpTestSuite() {
    tmp_ = std::make_unique<data::files::TempDir>();
    write_dictionary(dict(), 200);
    trained_ = run({"train",    "g2p-transformer",
                    "--out",    run_dir(),
                    "--epochs", "1",
                    "--batch",  "32",
                    "--set",    fmt::format("data.dir={}", dict().string()),
                    "--set",    "data.limit_train=120",
                    "--set",    "data.limit_test=8",
                    "--set",    "model.d_model=16",
                    "--set",    "model.heads=2",
                    "--set",    "model.feedforward=32",
                    "--set",    "model.encoder_layers=1",
                    "--set",    "model.decoder_layers=1",
                    "--set",    "model.positions=learned",
                    "--set",    "model.max_length=12"});
  }
};

TEST_F(G2PTransformerCommand, TrainPredictEval) {
  ASSERT_EQ(trained_.status, 0) << trained_.out << trained_.err;
  EXPECT_THAT(trained_.out, HasSubstr("stress ignored: test WER"));
  EXPECT_EQ(parse_recipe_file(fs::path(run_dir()) / "config.toml").model.architecture, "g2p-transformer");
  Result p = run({"predict", run_dir(), "hello", "--beam", "5", "--nbest", "3"});
  ASSERT_EQ(p.status, 0) << p.err;
  EXPECT_THAT(p.out, HasSubstr("hello  1  "));
  EXPECT_THAT(p.out, HasSubstr("hello  3  "));
  Result e = run({"eval", run_dir()});
  ASSERT_EQ(e.status, 0) << e.err;
  EXPECT_THAT(e.out, HasSubstr("beam 5:  WER"));
  EXPECT_THAT(e.out, HasSubstr("test_beam_wer_no_stress"));
}

TEST_F(G2PTransformerCommand, ResumeLengthensTheRunAndFixesTheRecipe) {
  const fs::path copy = tmp_->path() / "resumed";
  fs::copy(run_dir(), copy, fs::copy_options::recursive);
  Result bad = run({"train", "--resume", copy.string(), "--batch", "8"});
  EXPECT_EQ(bad.status, 1);
  EXPECT_THAT(bad.err, HasSubstr("only --epochs and --threads may change when resuming"));
  Result r = run({"train", "--resume", copy.string(), "--epochs", "2"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("resuming g2p-transformer"));
  std::ifstream in(copy / "summary.json");
  EXPECT_EQ(nlohmann::json::parse(in)["epochs"], 2);
}

TEST_F(G2PCommand, BenchW7DecodesTheRunsTestWords) {
  Result r = run({"bench", "--workload", "W7", "--g2p-run", run_dir(), "--quick", "--json", "--threads", "1"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<nlohmann::json> records = testing::json_lines(r.out);
  ASSERT_EQ(records.size(), 2u) << r.out;
  EXPECT_EQ(records[0]["key"], "W7");
  EXPECT_EQ(records[0]["metric"], "words_per_s");
  EXPECT_EQ(records[0]["beam"], 5);
  EXPECT_EQ(records[0]["batch"], 64);
  EXPECT_GT(records[0]["value"].get<double>(), 0);
  EXPECT_GT(records[0]["words"].get<double>(), 0);
  EXPECT_EQ(records[1]["key"], "W7/greedy");
  EXPECT_EQ(records[1]["beam"], 1);
  EXPECT_EQ(records[1]["words"], records[0]["words"]);
}

// A run rescoring its own 5-best ranks it as its beam search did, so the rescored WER is the beam
// WER; the rescored record times both searches and the scoring.
TEST_F(G2PCommand, BenchW7RescoredTimesTheRescoredDecoding) {
  Result r = run({"bench", "--workload", "W7", "--g2p-run", run_dir(), "--g2p-rescore", run_dir(), "--quick", "--json",
                  "--threads", "1"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<nlohmann::json> records = testing::json_lines(r.out);
  ASSERT_EQ(records.size(), 3u) << r.out;
  EXPECT_EQ(records[2]["key"], "W7/rescored");
  EXPECT_EQ(records[2]["beam"], 5);
  EXPECT_EQ(records[2]["rescore_weight"], 1.0);
  EXPECT_GT(records[2]["value"].get<double>(), 0);
  EXPECT_EQ(records[2]["words"], records[0]["words"]);
  EXPECT_DOUBLE_EQ(records[2]["wer"].get<double>(), records[0]["wer"].get<double>());
}

TEST(G2PBench, W7WithoutARunNamesTheMissingDirectory) {
  Result r = run({"bench", "--workload", "W7", "--g2p-run", "/nonexistent/g2p-run", "--quick"});
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/g2p-run is not a directory"));
  EXPECT_THAT(r.err, HasSubstr("dendrite train g2p-lstm"));
}

// model.decoder_lstm_layers stacks decoder cells: the run trains, its checkpoint holds the second
// layer, and predict and eval rebuild the same model from config.toml.
TEST_F(G2PCommand, StackedDecoderTrainsPredictsAndEvaluates) {
  const std::string dir = (tmp_->path() / "stacked").string();
  Result t = run({"train",    "g2p-lstm",
                  "--out",    dir,
                  "--epochs", "1",
                  "--batch",  "32",
                  "--set",    fmt::format("data.dir={}", dict().string()),
                  "--set",    "data.limit_train=96",
                  "--set",    "data.limit_test=6",
                  "--set",    "model.embed=8",
                  "--set",    "model.encoder_hidden=8",
                  "--set",    "model.decoder_hidden=16",
                  "--set",    "model.decoder_lstm_layers=2",
                  "--set",    "model.max_length=12"});
  ASSERT_EQ(t.status, 0) << t.out << t.err;
  EXPECT_EQ(parse_recipe_file(fs::path(dir) / "config.toml").model.decoder_lstm_layers, 2);
  std::ifstream weights(fs::path(dir) / "best" / "model.safetensors", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(weights)), std::istreambuf_iterator<char>());
  EXPECT_THAT(bytes, HasSubstr("\"decoder_l1.weight_ih\""));
  Result p = run({"predict", dir, "abc"});
  ASSERT_EQ(p.status, 0) << p.err;
  EXPECT_THAT(p.out, ::testing::StartsWith("abc  "));
  Result e = run({"eval", dir});
  ASSERT_EQ(e.status, 0) << e.err;
  EXPECT_THAT(e.out, HasSubstr("beam 5:  WER"));
}

TEST_F(G2PCommand, MalformedDictionaryLineIsAnErrorNamingTheLine) {
  const fs::path bad = tmp_->path() / "bad.txt";
  std::ofstream(bad) << "AB  AA1 B\nCD\n";
  Result r = run({"train", "g2p-lstm", "--out", (tmp_->path() / "bad-run").string(), "--set",
                  fmt::format("data.dir={}", bad.string())});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr(bad.string() + ":2: \"CD\" has no pronunciation"));
}

std::string error_of_validate(const Recipe& r) {
  return test_support::error_of([&] { validate_recipe(r, "g2p-lstm.toml"); });
}

TEST(G2PRecipe, ChecksNameTheKey) {
  Recipe r = parse_recipe_file(resolve_recipe("g2p-lstm"));
  EXPECT_NO_THROW(validate_recipe(r, "g2p-lstm.toml"));
  Recipe wrong = r;
  wrong.data.dataset = "fashion-mnist";
  EXPECT_THAT(error_of_validate(wrong), HasSubstr("model.architecture \"g2p-lstm\" cannot train on data.dataset"));
  Recipe attention = r;
  attention.model.attention = "fancy";
  EXPECT_THAT(error_of_validate(attention),
              HasSubstr("key 'model.attention' is \"fancy\"; choose one of: additive, dot"));
  Recipe nbest = r;
  nbest.decode.nbest = 9;
  EXPECT_THAT(error_of_validate(nbest), HasSubstr("key 'decode.nbest' must be in [1, decode.beam = 5], got 9"));
  Recipe layers = r;
  layers.model.decoder_lstm_layers = 0;
  EXPECT_THAT(error_of_validate(layers), HasSubstr("key 'model.decoder_lstm_layers' must be in [1, 64], got 0"));
  Recipe wide = r;
  wide.model.encoder_hidden = 99999999999;
  EXPECT_THAT(error_of_validate(wide), HasSubstr("key 'model.encoder_hidden' must be in [1, 65536], got 99999999999"));
  Recipe empty = r;
  empty.model.embed = 0;
  EXPECT_THAT(error_of_validate(empty), HasSubstr("key 'model.embed' must be in [1, 65536], got 0"));
  Recipe deep = r;
  deep.model.encoder_layers = 65;
  EXPECT_THAT(error_of_validate(deep), HasSubstr("key 'model.encoder_layers' must be in [1, 64], got 65"));
}

TEST(G2PRecipe, TransformerChecksNameTheKey) {
  Recipe r = parse_recipe_file(resolve_recipe("g2p-transformer"));
  EXPECT_NO_THROW(validate_recipe(r, "g2p-transformer.toml"));
  EXPECT_EQ(r.model.architecture, "g2p-transformer");
  Recipe heads = r;
  heads.model.d_model = 100;
  heads.model.heads = 8;
  EXPECT_THAT(error_of_validate(heads), HasSubstr("key 'model.d_model' (100) must be a multiple of model.heads (8)"));
  Recipe layers = r;
  layers.model.decoder_layers = 0;
  EXPECT_THAT(error_of_validate(layers), HasSubstr("key 'model.decoder_layers' must be in [1, 64], got 0"));
  Recipe ffn = r;
  ffn.model.feedforward = 1 << 20;
  EXPECT_THAT(error_of_validate(ffn), HasSubstr("key 'model.feedforward' must be in [1, 65536], got 1048576"));
  Recipe positions = r;
  positions.model.positions = "rotary";
  EXPECT_THAT(error_of_validate(positions),
              HasSubstr("key 'model.positions' is \"rotary\"; choose one of: sinusoidal, learned"));
  Recipe dataset = r;
  dataset.data.dataset = "fashion-mnist";
  EXPECT_THAT(error_of_validate(dataset),
              HasSubstr("model.architecture \"g2p-transformer\" cannot train on data.dataset \"fashion-mnist\""));
  // Through the command line: the message names the key.
  Result bad =
      run({"train", "g2p-transformer", "--set", "model.d_model=130", "--set", "model.heads=4", "--print-recipe"});
  EXPECT_EQ(bad.status, 1);
  EXPECT_THAT(bad.err, HasSubstr("key 'model.d_model' (130) must be a multiple of model.heads (4)"));
}

}  // namespace
}  // namespace dendrite::cli
