// Catching the dendrite::Error that a call throws, for the tests of every layer that check what its
// message says. Needs only the core layer, so any test binary can include it.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <string>
#include <utility>

#include "dendrite/core/error.h"

namespace dendrite::test_support {

// The message of the Error that fn throws. A call that throws none fails the test here, and the
// "(no error)" it returns then also fails the caller's comparison, which shows what was expected.
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    // Callers' lambdas may return a [[nodiscard]] value; only the throw matters.
    static_cast<void>(std::forward<Fn>(fn)());
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a dendrite::Error";
  return "(no error)";
}

// Expects fn to throw an Error whose message contains every one of `parts`.
inline void expect_error(const std::function<void()>& fn, std::initializer_list<std::string> parts) {
  const std::string message = error_of(fn);
  for (const std::string& part : parts) {
    EXPECT_NE(message.find(part), std::string::npos) << "message \"" << message << "\" lacks \"" << part << "\"";
  }
}

}  // namespace dendrite::test_support

#define EXPECT_CONTAINS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)
