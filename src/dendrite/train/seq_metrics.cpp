#include "dendrite/train/seq_metrics.h"

#include <algorithm>
#include <limits>
#include <map>

#include "dendrite/core/error.h"

namespace dendrite::train {
namespace {

template <typename T>
int64_t levenshtein(std::span<const T> a, std::span<const T> b) {
  std::vector<int64_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int64_t>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int64_t diagonal = row[0];
    row[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int64_t above = row[j];
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

int64_t edit_distance(std::span<const int64_t> a, std::span<const int64_t> b) { return levenshtein(a, b); }
int64_t edit_distance(std::span<const std::string> a, std::span<const std::string> b) { return levenshtein(a, b); }

std::vector<int64_t> stress_free_classes(const std::vector<std::string>& tokens) {
  std::map<std::string, int64_t> first;
  std::vector<int64_t> classes;
  for (size_t id = 0; id < tokens.size(); ++id) {
    std::string base = tokens[id];
    if (base.size() > 1 && base.back() >= '0' && base.back() <= '2') base.pop_back();
    classes.push_back(first.emplace(base, static_cast<int64_t>(id)).first->second);
  }
  return classes;
}

std::vector<int64_t> SequenceErrorRates::map(const std::vector<int64_t>& tokens) const {
  if (classes_.empty()) return tokens;
  std::vector<int64_t> out;
  out.reserve(tokens.size());
  for (int64_t t : tokens) {
    DENDRITE_CHECK(t >= 0 && t < static_cast<int64_t>(classes_.size()),
                   "SequenceErrorRates: token {} is outside the {} token classes", t, classes_.size());
    out.push_back(classes_[static_cast<size_t>(t)]);
  }
  return out;
}

void SequenceErrorRates::add(const std::vector<int64_t>& hypothesis_tokens,
                             const std::vector<std::vector<int64_t>>& references) {
  DENDRITE_CHECK(!references.empty(), "SequenceErrorRates: a word needs at least one reference");
  const std::vector<int64_t> hypothesis = map(hypothesis_tokens);
  int64_t best = std::numeric_limits<int64_t>::max(), best_length = 0;
  for (const auto& reference : references) {
    const std::vector<int64_t> ref = map(reference);
    const int64_t d = edit_distance(hypothesis, ref);
    // Ties go to the longer reference: the lower error rate for the same edits.
    if (d < best || (d == best && static_cast<int64_t>(ref.size()) > best_length)) {
      best = d;
      best_length = static_cast<int64_t>(ref.size());
    }
  }
  ++words_;
  word_errors_ += best == 0 ? 0 : 1;
  edits_ += best;
  reference_length_ += best_length;
}

double SequenceErrorRates::wer() const {
  return words_ == 0 ? 0.0 : static_cast<double>(word_errors_) / static_cast<double>(words_);
}

double SequenceErrorRates::per() const {
  return reference_length_ == 0 ? 0.0 : static_cast<double>(edits_) / static_cast<double>(reference_length_);
}

}  // namespace dendrite::train
