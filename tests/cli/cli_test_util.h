// Runs the `dendrite` command in-process, exactly as main() does, capturing its streams.
#pragma once

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "dendrite/cli/commands.h"

namespace dendrite::cli::testing {

struct Result {
  int status;
  std::string out, err;
};

// `args` follow the program name: run_dendrite({"train", "fashion-mlp"}).
inline Result run_dendrite(std::vector<std::string> args) {
  args.insert(args.begin(), "dendrite");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  const int status = run_cli(static_cast<int>(argv.size()), argv.data(), out, err);
  return {status, out.str(), err.str()};
}

// One JSON object per line, as `dendrite bench --json` writes them.
inline std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

}  // namespace dendrite::cli::testing
