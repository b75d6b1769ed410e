// Size2: a height/width pair for kernel sizes, strides, padding and dilation. It converts from one
// number (used for both axes) or from {h, w}, so options read like PyTorch's:
//   Conv2d(1, 32, 3, {.padding = 1});   MaxPool2d({2, 3}, {.stride = 1});
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <string>

namespace dendrite::nn {

struct Size2 {
  int64_t h = 0;
  int64_t w = 0;
  constexpr Size2() = default;
  constexpr Size2(int64_t both) : h(both), w(both) {}  // NOLINT(google-explicit-constructor): 3 means 3x3
  constexpr Size2(int64_t h_, int64_t w_) : h(h_), w(w_) {}
  constexpr std::array<int64_t, 2> array() const { return {h, w}; }
  constexpr bool square() const { return h == w; }
  constexpr bool operator==(const Size2&) const = default;
  // "3" when square, "3x5" otherwise.
  std::string str() const { return square() ? fmt::format("{}", h) : fmt::format("{}x{}", h, w); }
};

}  // namespace dendrite::nn
