// metrics.jsonl and summary.json: one flushed JSON object per line, NaN as null, records read back
// in key order, a torn last line (a crash mid-write) tolerated, a corrupt earlier line reported with
// its number, and truncation to a checkpoint's step for resumed runs.
#include "dendrite/train/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "train_test_util.h"

namespace dendrite::train {
namespace {

using testing::error_of;
using testing::read_all;
using testing::ScratchDir;

TEST(Metrics, OneFlushedObjectPerLine) {
  ScratchDir dir;
  MetricsLogger log(dir / "metrics.jsonl");
  log.log({{"kind", "train"}, {"step", 50}, {"loss", 0.5}, {"done", true}});
  // Flushed: readable while the logger is still open.
  EXPECT_EQ(read_all(dir / "metrics.jsonl"), "{\"kind\":\"train\",\"step\":50,\"loss\":0.5,\"done\":true}\n");
  log.log({{"kind", "epoch"}, {"test_accuracy", std::nan("")}});
  EXPECT_EQ(
      read_all(dir / "metrics.jsonl"),
      "{\"kind\":\"train\",\"step\":50,\"loss\":0.5,\"done\":true}\n{\"kind\":\"epoch\",\"test_accuracy\":null}\n");
}

TEST(Metrics, AppendsAndReadsBack) {
  ScratchDir dir;
  MetricsLogger(dir / "m.jsonl").log({{"step", 1}, {"loss", 2.25}});
  MetricsLogger(dir / "m.jsonl").log({{"step", int64_t{2}}, {"seed", uint64_t{18446744073709551615ULL}}});
  std::vector<MetricRecord> records = read_metrics(dir / "m.jsonl");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0], (MetricRecord{{"step", 1}, {"loss", 2.25}}));
  EXPECT_TRUE(find(records[1], "step")->is_integer());
  EXPECT_EQ(find(records[1], "seed")->as_double(), 18446744073709551615.0);
  EXPECT_EQ(find(records[1], "missing"), nullptr);
}

TEST(Metrics, TornLastLineIsSkippedButACorruptEarlierLineIsAnError) {
  ScratchDir dir;
  std::ofstream(dir / "m.jsonl") << "{\"step\":1}\n{\"step\":2}\n{\"step\":3,\"lo";
  EXPECT_EQ(read_metrics(dir / "m.jsonl").size(), 2u);
  std::ofstream(dir / "bad.jsonl") << "{\"step\":1}\n{\"step\":2,,}\n{\"step\":3}\n";
  EXPECT_CONTAINS(error_of([&] { read_metrics(dir / "bad.jsonl"); }),
                  (dir / "bad.jsonl").string() + ": line 2 is not valid JSON");
  std::ofstream(dir / "array.jsonl") << "[1]\n";
  EXPECT_EQ(error_of([&] { read_metrics(dir / "array.jsonl"); }),
            (dir / "array.jsonl").string() + ": line 1 is not a JSON object");
}

TEST(Metrics, TruncateKeepsRecordsUpToTheStep) {
  ScratchDir dir;
  {
    MetricsLogger log(dir / "m.jsonl");
    for (int step : {10, 20, 30, 40}) log.log({{"kind", "train"}, {"step", step}});
    log.log({{"kind", "note"}});
  }
  truncate_metrics(dir / "m.jsonl", 25);
  std::vector<MetricRecord> records = read_metrics(dir / "m.jsonl");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(find(records[1], "step")->as_double(), 20);
  EXPECT_EQ(find(records[2], "kind")->as_string(), "note") << "records without a step are kept";
  truncate_metrics(dir / "absent.jsonl", 3);  // nothing to do
  EXPECT_FALSE(std::filesystem::exists(dir / "absent.jsonl"));
}

TEST(Metrics, SummaryIsPrettyJson) {
  ScratchDir dir;
  write_json_file(dir / "summary.json", {{"test_accuracy", 0.9}, {"epochs", 3}});
  EXPECT_EQ(read_all(dir / "summary.json"), "{\n  \"test_accuracy\": 0.9,\n  \"epochs\": 3\n}\n");
}

TEST(Metrics, ValueAccessorsReject) {
  EXPECT_EQ(error_of([] { MetricValue("x").as_double(); }), "metric value \"x\" is a string, not a number");
  EXPECT_EQ(error_of([] { MetricValue(1.0).as_string(); }), "metric value is a number, not a string");
  EXPECT_EQ(error_of([] { MetricsLogger("/nonexistent/m.jsonl"); }),
            "/nonexistent/m.jsonl: cannot open for appending: No such file or directory");
}

}  // namespace
}  // namespace dendrite::train
