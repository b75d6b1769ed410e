// Vocabularies: token strings <-> integer ids, with the special tokens every sequence model needs at
// fixed ids: <pad> 0 (padding), <s> 1 (begin of sequence), </s> 2 (end) and <unk> 3 (a token
// outside the vocabulary). Ordinary tokens follow from id 4 in the order they were added; build()
// adds them sorted, so the same data always gives the same ids.
//
// A vocabulary is saved as a text file, one token per line in id order, beside the model that
// uses it (a run directory), so prediction reads exactly the ids training used.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

namespace dendrite::data {

class Vocab {
 public:
  static constexpr int64_t kPad = 0, kBos = 1, kEos = 2, kUnk = 3;
  static constexpr int64_t kSpecials = 4;

  Vocab();  // the special tokens only
  // Every distinct token of `sequences`, sorted.
  static Vocab build(const std::vector<std::vector<std::string>>& sequences);

  // The token's id, adding it when new. Tokens must be non-empty and free of newlines.
  int64_t add(const std::string& token);
  // The token's id, or kUnk.
  int64_t id(const std::string& token) const;
  bool contains(const std::string& token) const { return ids_.count(token) != 0; }
  const std::string& token(int64_t id) const;  // throws naming the id and the size when out of range
  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  static bool is_special(int64_t id) { return id >= 0 && id < kSpecials; }

  // Ids of the tokens; unknown tokens become kUnk and are appended to `unknown` when given.
  std::vector<int64_t> encode(const std::vector<std::string>& tokens,
                              std::vector<std::string>* unknown = nullptr) const;
  // Tokens of the ids, special tokens left out.
  std::vector<std::string> decode(const std::vector<int64_t>& ids) const;

  void save(const std::filesystem::path& path) const;
  // Reads a saved vocabulary; a file whose first lines are not the special tokens, or that repeats a
  // token, is an error naming the file and line.
  static Vocab load(const std::filesystem::path& path);

  bool operator==(const Vocab& other) const { return tokens_ == other.tokens_; }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
};

// The characters of a UTF-8 word, one string each (a byte that is not valid UTF-8 is a character of
// its own, so any input splits without error).
std::vector<std::string> split_characters(const std::string& word);

}  // namespace dendrite::data
