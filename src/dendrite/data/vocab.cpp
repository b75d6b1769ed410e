#include "dendrite/data/vocab.h"

#include <algorithm>
#include <fstream>
#include <set>

#include "dendrite/core/error.h"

namespace dendrite::data {
namespace {

constexpr const char* kSpecialNames[] = {"<pad>", "<s>", "</s>", "<unk>"};

}  // namespace

Vocab::Vocab() {
  for (const char* name : kSpecialNames) add(name);
}

Vocab Vocab::build(const std::vector<std::vector<std::string>>& sequences) {
  std::set<std::string> distinct;
  for (const auto& seq : sequences) distinct.insert(seq.begin(), seq.end());
  Vocab vocab;
  for (const std::string& t : distinct) vocab.add(t);
  return vocab;
}

int64_t Vocab::add(const std::string& token) {
  DENDRITE_CHECK(!token.empty() && token.find('\n') == std::string::npos,
                 "Vocab: a token must be non-empty and on one line, got \"{}\"", token);
  auto [it, inserted] = ids_.emplace(token, size());
  if (inserted) tokens_.push_back(token);
  return it->second;
}

int64_t Vocab::id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? kUnk : it->second;
}

const std::string& Vocab::token(int64_t id) const {
  DENDRITE_CHECK(id >= 0 && id < size(), "Vocab: id {} is out of range [0, {})", id, size());
  return tokens_[static_cast<size_t>(id)];
}

std::vector<int64_t> Vocab::encode(const std::vector<std::string>& tokens, std::vector<std::string>* unknown) const {
  std::vector<int64_t> out;
  out.reserve(tokens.size());
  for (const std::string& t : tokens) {
    const int64_t i = id(t);
    if (i == kUnk && unknown != nullptr) unknown->push_back(t);
    out.push_back(i);
  }
  return out;
}

std::vector<std::string> Vocab::decode(const std::vector<int64_t>& ids) const {
  std::vector<std::string> out;
  for (int64_t i : ids)
    if (!is_special(i)) out.push_back(token(i));
  return out;
}

void Vocab::save(const std::filesystem::path& path) const {
  std::ofstream out(path, std::ios::binary);
  DENDRITE_CHECK(out.good(), "{}: cannot write the vocabulary", path.string());
  for (const std::string& t : tokens_) out << t << '\n';
  out.flush();
  DENDRITE_CHECK(out.good(), "{}: writing the vocabulary failed", path.string());
}

Vocab Vocab::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  DENDRITE_CHECK(in.good(), "{}: cannot open the vocabulary file", path.string());
  Vocab vocab;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (number <= kSpecials) {
      DENDRITE_CHECK(line == kSpecialNames[number - 1], "{}:{}: expected the special token {}, got \"{}\"",
                     path.string(), number, kSpecialNames[number - 1], line);
      continue;
    }
    DENDRITE_CHECK(!line.empty() && !vocab.contains(line), "{}:{}: {} token \"{}\"", path.string(), number,
                   line.empty() ? "empty" : "repeated", line);
    vocab.add(line);
  }
  DENDRITE_CHECK(number >= kSpecials, "{}: truncated vocabulary ({} lines; the {} special tokens come first)",
                 path.string(), number, kSpecials);
  return vocab;
}

std::vector<std::string> split_characters(const std::string& word) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < word.size()) {
    const auto lead = static_cast<unsigned char>(word[i]);
    size_t n = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 1;
    bool valid = i + n <= word.size();
    for (size_t k = 1; valid && k < n; ++k) valid = (static_cast<unsigned char>(word[i + k]) & 0xC0) == 0x80;
    if (!valid) n = 1;
    out.push_back(word.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace dendrite::data
