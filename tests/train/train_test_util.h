// Helpers shared by the train layer's tests: catching an Error's message, a scratch directory that
// is removed when the test ends, a small learnable problem, and reading back what a run wrote.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "dendrite/core/random.h"
#include "dendrite/data/dataset.h"
#include "dendrite/nn/module.h"
#include "dendrite/ops/ops.h"
#include "support/errors.h"

namespace dendrite::train::testing {

using test_support::error_of;

// A fresh directory per test, named after it, under the system's temporary directory.
class ScratchDir {
 public:
  // `tag` tells apart several directories of one test.
  explicit ScratchDir(const std::string& tag = "") {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            (std::string("dendrite_train_") + info->test_suite_name() + "_" + info->name() + tag);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Labels from a random linear map, so the problem is learnable; fixed by the seed.
inline data::TensorDataset learnable_dataset(int64_t n, uint64_t seed) {
  Generator gen(seed);
  Tensor x = randn({n, 8}, DType::f32, gen);
  Generator map_gen(99);
  Tensor w = randn({8, 3}, DType::f32, map_gen);
  return data::TensorDataset(x, x.matmul(w).argmax(1));
}

// The raw bytes of a tensor, so that results compare bit for bit.
inline std::string bytes_of(const Tensor& t) {
  Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.raw_data()), c.numel() * element_size(c.dtype()));
}

inline std::vector<std::string> bytes_of(const nn::NamedTensors& tensors) {
  std::vector<std::string> out;
  for (const auto& [name, t] : tensors) out.push_back(bytes_of(t));
  return out;
}

inline std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace dendrite::train::testing
