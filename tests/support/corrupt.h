// Corrupted copies of a valid file, for the tests that every reader of untrusted input either
// accepts a file or throws dendrite::Error naming it, and never crashes, hangs or reads out of
// bounds (the sanitizer build runs the same tests). Deterministic: the same seed gives the same
// copies. Header-only and dependent on the core layer alone, like errors.h.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "dendrite/core/error.h"

namespace dendrite::test_support {

// SplitMix64 (Steele, Lea and Flood 2014): enough randomness to pick offsets and bytes.
class Mixer {
 public:
  explicit Mixer(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }

 private:
  uint64_t state_;
};

// `count` corrupted copies of `valid`: truncations (every length for short files), single bytes
// set to 0x00, 0xff or a random value, a random bit flipped, a run of bytes cut out or repeated,
// and ASCII digits replaced by long runs of 9s (a size or count in a text header made huge).
inline std::vector<std::string> corruptions(std::string_view valid, uint64_t seed, int count) {
  std::vector<std::string> out;
  Mixer mix(seed);
  const size_t n = valid.size();
  for (size_t cut = 0; cut < n && static_cast<int>(out.size()) < count / 4; cut += std::max<size_t>(1, n / 64))
    out.emplace_back(valid.substr(0, cut));
  std::vector<size_t> digits;
  for (size_t i = 0; i < n; ++i)
    if (valid[i] >= '0' && valid[i] <= '9') digits.push_back(i);
  while (static_cast<int>(out.size()) < count) {
    std::string s(valid);
    const size_t at = mix.below(n);
    switch (mix.below(6)) {
      case 0: s[at] = '\0'; break;
      case 1: s[at] = '\xff'; break;
      case 2: s[at] = static_cast<char>(mix.next() & 0xff); break;
      case 3: s[at] = static_cast<char>(s[at] ^ (1 << mix.below(8))); break;
      case 4: {
        const size_t len = 1 + mix.below(16);
        if (mix.below(2) == 0)
          s.erase(at, len);
        else
          s.insert(at, valid.substr(at, len));
        break;
      }
      default:
        if (!digits.empty()) s.replace(digits[mix.below(digits.size())], 1, std::string(1 + mix.below(20), '9'));
        break;
    }
    if (n > 0) out.push_back(std::move(s));
  }
  return out;
}

// Runs `read` on every corrupted copy: each must return or throw dendrite::Error; anything else
// thrown fails the test with the copy's index and the exception's message. Returns how many were
// rejected, so a caller can check that corruption is noticed at all.
inline int expect_only_errors(const std::vector<std::string>& copies,
                              const std::function<void(const std::string&)>& read) {
  int rejected = 0;
  for (size_t i = 0; i < copies.size(); ++i) {
    try {
      read(copies[i]);
    } catch (const Error&) {
      ++rejected;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "copy " << i << " (" << copies[i].size() << " bytes) threw a non-Error: " << e.what();
    }
  }
  return rejected;
}

}  // namespace dendrite::test_support
