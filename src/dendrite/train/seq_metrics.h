// Sequence evaluation as the G2P literature does it (e.g. Yao & Zweig 2015):
//   word error rate     the fraction of words whose predicted sequence is none of its references
//   phoneme error rate  the sum over words of the edit distance (Levenshtein: substitutions,
//                       insertions, deletions) to the best-matching reference, divided by the sum of
//                       those references' lengths
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace dendrite::train {

// Levenshtein distance with unit costs.
int64_t edit_distance(std::span<const int64_t> a, std::span<const int64_t> b);
int64_t edit_distance(std::span<const std::string> a, std::span<const std::string> b);

class SequenceErrorRates {
 public:
  // One word: its prediction and its (one or more) reference sequences.
  void add(const std::vector<int64_t>& hypothesis, const std::vector<std::vector<int64_t>>& references);

  int64_t words() const { return words_; }
  int64_t word_errors() const { return word_errors_; }
  int64_t edits() const { return edits_; }
  int64_t reference_length() const { return reference_length_; }
  double wer() const;  // 0 when empty
  double per() const;

 private:
  int64_t words_ = 0, word_errors_ = 0, edits_ = 0, reference_length_ = 0;
};

}  // namespace dendrite::train
