// Helpers shared by the nn tests.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "dendrite/nn/nn.h"
#include "dendrite/ops/ops.h"
#include "dendrite/nn/nn.h"
#include "dendrite/ops/ops.h"

namespace dendrite::nn::testing {

// The message of the Error that fn throws, or a failure when it throws none.
inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no dendrite::Error was thrown";
  return {};
}

// Expects fn to throw an Error whose message contains every one of `parts`.
inline void expect_error(const std::function<void()>& fn, std::initializer_list<std::string> parts) {
  const std::string message = error_of(fn);
  for (const std::string& part : parts) {
    EXPECT_NE(message.find(part), std::string::npos) << "message \"" << message << "\" lacks \"" << part << "\"";
  }
}

inline std::vector<std::string> names_of(const NamedTensors& tensors) {
  std::vector<std::string> names;
  for (const auto& [name, t] : tensors) names.push_back(name);
  return names;
}

inline double value(const Tensor& t) { return t.item<double>(); }

}  // namespace dendrite::nn::testing
