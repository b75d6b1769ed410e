// Sequence evaluation as the G2P literature does it (e.g. Yao & Zweig 2015):
//   word error rate     the fraction of words whose predicted sequence is none of its references
//   phoneme error rate  the sum over words of the edit distance (Levenshtein: substitutions,
//                       insertions, deletions) to the best-matching reference, divided by the sum of
//                       those references' lengths
//
// Both can be scored on token classes instead of tokens: SequenceErrorRates(classes) compares
// classes[token] instead of token, so tokens of one class count as equal. stress_free_classes
// builds the classes of ARPAbet phonemes that differ only in their stress digit (AH0, AH1, AH2),
// which gives the error rates of the stress-free phoneme set that most published CMUdict G2P
// results use (e.g. Yao & Zweig 2015) from a model that predicts stress.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace dendrite::train {

// Levenshtein distance with unit costs.
int64_t edit_distance(std::span<const int64_t> a, std::span<const int64_t> b);
int64_t edit_distance(std::span<const std::string> a, std::span<const std::string> b);

// For each token (by id), the id of the first token with the same spelling once a trailing stress
// digit 0, 1 or 2 is dropped ("AH1" -> the id of "AH0" when that came first, or of "AH").
std::vector<int64_t> stress_free_classes(const std::vector<std::string>& tokens);

class SequenceErrorRates {
 public:
  SequenceErrorRates() = default;
  // classes[id]: the class of token id; a token outside it is an Error when added.
  explicit SequenceErrorRates(std::vector<int64_t> classes) : classes_(std::move(classes)) {}

  // One word: its prediction and its (one or more) reference sequences.
  void add(const std::vector<int64_t>& hypothesis, const std::vector<std::vector<int64_t>>& references);

  int64_t words() const { return words_; }
  int64_t word_errors() const { return word_errors_; }
  int64_t edits() const { return edits_; }
  int64_t reference_length() const { return reference_length_; }
  double wer() const;  // 0 when empty
  double per() const;

 private:
  std::vector<int64_t> map(const std::vector<int64_t>& tokens) const;

  std::vector<int64_t> classes_;  // empty: tokens are their own class
  int64_t words_ = 0, word_errors_ = 0, edits_ = 0, reference_length_ = 0;
};

}  // namespace dendrite::train
