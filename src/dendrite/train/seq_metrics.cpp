#include "dendrite/train/seq_metrics.h"

#include <algorithm>
#include <limits>

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

void SequenceErrorRates::add(const std::vector<int64_t>& hypothesis,
                             const std::vector<std::vector<int64_t>>& references) {
  DENDRITE_CHECK(!references.empty(), "SequenceErrorRates: a word needs at least one reference");
  int64_t best = std::numeric_limits<int64_t>::max(), best_length = 0;
  for (const auto& ref : references) {
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
