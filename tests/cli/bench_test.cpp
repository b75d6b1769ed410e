// `dendrite bench` through run_cli: its options and the plan they resolve to, the errors for bad
// names and values, and the JSON fields of every workload (run with --quick on a tiny generated
// Fashion-MNIST-shaped data set, so these are smoke runs of the timing code, not timings).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "data/test_files.h"
#include "dendrite/cli/bench_record.h"
#include "cli/cli_test_util.h"
#include "dendrite/cli/commands.h"

namespace dendrite::cli {
namespace {

namespace files = data::files;
using ::testing::HasSubstr;
using ::testing::Not;

using testing::json_lines;
using testing::Result;
Result run(std::vector<std::string> args) {
  args.insert(args.begin(), "bench");
  return testing::run_dendrite(std::move(args));
}

// 28x28 images whose bright row is the class, 10 classes, in the Fashion-MNIST file names.
void write_fake_fashion_mnist(const std::filesystem::path& dir, uint32_t train, uint32_t test) {
  auto write_split = [&](const std::string& prefix, uint32_t n) {
    files::Bytes pixels, labels;
    for (uint32_t i = 0; i < n; ++i) {
      const auto label = static_cast<uint8_t>(i % 10);
      labels.push_back(label);
      for (int p = 0; p < 28 * 28; ++p) pixels.push_back(static_cast<uint8_t>(p / 28 == label * 2 ? 255 : 0));
    }
    files::write_file(dir / (prefix + "-images-idx3-ubyte"), files::idx_u8({n, 28, 28}, pixels), false);
    files::write_file(dir / (prefix + "-labels-idx1-ubyte"), files::idx_u8({n}, labels), false);
  };
  write_split("train", train);
  write_split("t10k", test);
}

TEST(Bench, ListNamesEveryWorkloadAndTheMissingOnes) {
  Result r = run({"--list", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[0]["workload"], "W1");
  EXPECT_TRUE(lines[0]["available"].get<bool>());
  EXPECT_EQ(lines[2]["workload"], "W3");
  EXPECT_TRUE(lines[2]["available"].get<bool>());
  EXPECT_EQ(lines[5]["workload"], "W6");
  EXPECT_FALSE(lines[5]["available"].get<bool>());
  EXPECT_THAT(lines[5]["missing"].get<std::string>(), HasSubstr("distributed"));
}

TEST(Bench, OptionsResolveToThePlan) {
  Result r =
      run({"--workload", "w4,W1,W4", "--threads", "1", "--steps", "7", "--warmup", "0", "--seed", "3", "--dry-run"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("workloads W4,W1; threads 1 (W5: 1); warm-up steps 0; timed steps 7"));
  EXPECT_THAT(r.out, HasSubstr("seed 3"));

  r = run({"--quick", "--dry-run"});  // every available workload; W5 on one thread by default
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("workloads W1,W2,W3,W4,W5,W7;"));
  EXPECT_THAT(r.out, HasSubstr("(W5: 1); warm-up steps 2; timed steps 5"));

  r = run({"--accuracy", "--epochs", "2", "--peak-gflops", "100", "--dry-run"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("accuracy, epochs 2"));
  EXPECT_THAT(r.out, HasSubstr("peak 100.0 GFLOP/s per thread (given)"));

  r = run({"--dry-run"});  // without --peak-gflops the run measures it first; a dry run does not
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("FMA peak measured at the start"));
}

TEST(Bench, ProbePeakMeasuresThisCpu) {
  Result r = run({"--probe-peak", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  // Any CPU this builds on does more than 0.1 GFLOP/s; none does 10 TFLOP/s on one core.
  EXPECT_GT(lines[0]["fma_peak_gflops"].get<double>(), 0.1);
  EXPECT_LT(lines[0]["fma_peak_gflops"].get<double>(), 1e4);
  EXPECT_THAT(lines[0]["isa"].get<std::string>(), ::testing::AnyOf("avx512f", "avx2+fma", "generic"));

  r = run({"--probe-peak"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("FP32 FMA peak: "));
  EXPECT_THAT(r.out, HasSubstr("GFLOP/s on one core"));
}

TEST(Bench, UnknownWorkloadListsTheValidOnes) {
  Result r = run({"--workload", "W1,W9"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown workload 'W9'; valid workloads: W1, W2, W3, W4, W5"));

  r = run({"--workload", "W6"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("W6 is not available yet"));
  EXPECT_THAT(r.err, HasSubstr("available: W1, W2, W3, W4, W5"));
}

TEST(Bench, BadValuesAreErrors) {
  EXPECT_THAT(run({"--steps", "0"}).err, HasSubstr("--steps must be at least 1, got 0"));
  EXPECT_THAT(run({"--threads", "0"}).err, HasSubstr("--threads must be at least 1"));
  EXPECT_THAT(run({"--steps", "3", "--full-epoch"}).err, HasSubstr("not both"));
  EXPECT_THAT(run({"--epochs", "3"}).err, HasSubstr("--epochs applies to --accuracy"));
  EXPECT_THAT(run({"--steps", "many"}).err, HasSubstr("dendrite: error:"));
  EXPECT_THAT(run({"--peak-gflops", "0"}).err, HasSubstr("--peak-gflops must be positive, got 0"));
}

class BenchRun : public ::testing::Test {
 protected:
  void SetUp() override { write_fake_fashion_mnist(tmp_.path(), 160, 20); }
  Result run_quick(std::vector<std::string> args) const {
    for (const char* a : {"--quick", "--json", "--threads", "1", "--data"}) args.emplace_back(a);
    args.push_back(tmp_.path().string());
    return run(std::move(args));
  }
  files::TempDir tmp_;
};

void expect_common_fields(const nlohmann::json& j) {
  for (const char* field : {"key", "workload", "name", "impl", "config", "metric", "unit", "value", "higher_is_better",
                            "threads", "load_average"})
    EXPECT_TRUE(j.contains(field)) << field << " missing in " << j.dump();
  EXPECT_EQ(j["impl"], "dendrite");
  EXPECT_EQ(j["threads"], 1);
  EXPECT_GT(j["value"].get<double>(), 0) << j.dump();
}

TEST_F(BenchRun, TrainingReportsThroughputAndRoofline) {
  Result r = run_quick({"--workload", "W1,W2", "--steps", "1", "--warmup", "1", "--peak-gflops", "250"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  for (const auto& j : lines) {
    expect_common_fields(j);
    EXPECT_EQ(j["metric"], "samples_per_s");
    EXPECT_EQ(j["steps"], 1);
    for (const char* field : {"batch", "seconds", "loss", "gflops", "peak_fraction", "max_rss_mb"})
      EXPECT_TRUE(j.contains(field)) << field;
  }
  EXPECT_EQ(lines[0]["key"], "W1");
  EXPECT_EQ(lines[0]["batch"], 128);
  EXPECT_NEAR(lines[0]["flop_per_sample"].get<double>(), 3.21e6, 0.01e6);
  EXPECT_EQ(lines[1]["key"], "W2");
  EXPECT_EQ(lines[1]["batch"], 64);
  EXPECT_NEAR(lines[1]["peak_gflops"].get<double>(), 250, 1e-9);  // the given per-core peak, 1 thread
}

TEST_F(BenchRun, Seq2SeqTrainingReportsSequencesPerSecond) {
  Result r = run_quick({"--workload", "W3", "--steps", "1", "--warmup", "1"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  expect_common_fields(lines[0]);
  EXPECT_EQ(lines[0]["key"], "W3");
  EXPECT_EQ(lines[0]["metric"], "sequences_per_s");
  EXPECT_EQ(lines[0]["batch"], 64);
  EXPECT_NEAR(lines[0]["flop_per_sample"].get<double>(), 48.0e6, 0.1e6);
  EXPECT_GT(lines[0]["loss"].get<double>(), 0);
}

TEST_F(BenchRun, AccuracyModeReportsTestAccuracy) {
  Result r = run_quick({"--workload", "W1", "--accuracy", "--epochs", "1"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["key"], "W1/accuracy");
  EXPECT_EQ(lines[0]["metric"], "test_accuracy");
  EXPECT_EQ(lines[0]["test_examples"], 20);
  EXPECT_LE(lines[0]["value"].get<double>(), 1.0);
}

TEST_F(BenchRun, GemmAndInferenceReportTheirFigures) {
  Result r = run_quick({"--workload", "W4,W5"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;  // three GEMM shapes, two networks
  EXPECT_EQ(lines[0]["key"], "W4/128x784x512");
  EXPECT_EQ(lines[2]["key"], "W4/1024x1024x1024");
  for (int i = 0; i < 3; ++i) {
    expect_common_fields(lines[i]);
    EXPECT_GT(lines[i]["onednn_sgemm_gflops"].get<double>(), 0);
    EXPECT_TRUE(lines[i].contains("peak_fraction"));
  }
  EXPECT_EQ(lines[3]["key"], "W5/mlp");
  EXPECT_EQ(lines[4]["key"], "W5/cnn");
  for (int i = 3; i < 5; ++i) {
    expect_common_fields(lines[i]);
    EXPECT_EQ(lines[i]["metric"], "latency_us");
    EXPECT_FALSE(lines[i]["higher_is_better"].get<bool>());
    EXPECT_LE(lines[i]["min_us"].get<double>(), lines[i]["value"].get<double>());
  }
}

TEST_F(BenchRun, TextOutputIsOneLinePerResult) {
  Result r = run({"--workload", "W5", "--quick", "--threads", "1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("dendrite bench: workloads W5"));
  EXPECT_THAT(r.out, HasSubstr("W5/mlp"));
  EXPECT_THAT(r.out, HasSubstr("W5/cnn"));
  EXPECT_THAT(r.out, Not(HasSubstr("{")));
}

TEST(BenchRecord, JsonEscapesAndWritesNullForNonFinite) {
  EXPECT_EQ(json_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
  EXPECT_EQ(json_number(std::numeric_limits<double>::infinity()), "null");
  BenchRecord r;
  r.key = "W9";
  r.value = 2.5;
  r.add("nan", std::nan(""));
  const auto j = nlohmann::json::parse(to_json(r));
  EXPECT_EQ(j["value"], 2.5);
  EXPECT_TRUE(j["nan"].is_null());
}

}  // namespace
}  // namespace dendrite::cli
