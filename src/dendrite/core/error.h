// Errors. Two kinds, as in STYLE.md:
//  - user mistakes (bad shapes, dtypes, indices, files) throw dendrite::Error with a message that
//    names the operation and the offending arguments: "matmul: inner dimensions differ: [64, 784] x
//    [512, 10]". DENDRITE_CHECK formats the message only when the check fails.
//  - internal invariants use DENDRITE_ASSERT, compiled out in release builds.
// Nothing in the library aborts or exits on user input.
#pragma once

#include <cassert>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace dendrite {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace dendrite

#define DENDRITE_CHECK(cond, ...)            \
  do {                                       \
    if (!(cond)) ::dendrite::fail(__VA_ARGS__); \
  } while (false)

#define DENDRITE_ASSERT(cond) assert(cond)
