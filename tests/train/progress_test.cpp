// The progress display: the exact terminal line, redraws limited to ~10 a second with '\r', and
// plain lines at each tenth of an epoch when the output is not a terminal.
#include "dendrite/train/progress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace dendrite::train {
namespace {

using namespace std::chrono_literals;

TEST(Progress, TerminalLine) {
  ProgressState state{.epoch = 2,
                      .epochs = 10,
                      .done = 312,
                      .total = 469,
                      .loss = 0.41234,
                      .accuracy = 0.8612,
                      .samples_per_sec = 1834.2,
                      .eta_seconds = 41.2};
  EXPECT_EQ(format_progress(state, 10),
            "epoch 2/10 [=====>    ] 312/469 loss 0.4123 acc 0.861 1834 samples/s ETA 0:41");
  state.done = 469;
  state.accuracy = -1;
  state.eta_seconds = -1;
  EXPECT_EQ(format_progress(state, 4), "epoch 2/10 [====] 469/469 loss 0.4123 1834 samples/s");
  EXPECT_EQ(format_progress(state, 0), "epoch 2/10 469/469 loss 0.4123 1834 samples/s");
}

TEST(Progress, Durations) {
  EXPECT_EQ(format_duration(0), "0:00");
  EXPECT_EQ(format_duration(41.4), "0:41");
  EXPECT_EQ(format_duration(725), "12:05");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(-5), "0:00");
}

TEST(Progress, TerminalRedrawsAtMostTenTimesASecond) {
  std::ostringstream out;
  ProgressBar bar(out, {.terminal = true});
  auto t0 = ProgressClock::time_point{};
  bar.start_epoch(1, 1, 1000, 0, t0);
  for (int i = 1; i <= 1000; ++i) bar.update(i, i * 32, 1.0, 0.5, t0 + i * 1ms);  // one second of steps
  std::string text = out.str();
  auto redraws = std::count(text.begin(), text.end(), '\r');
  EXPECT_GE(redraws, 10);
  EXPECT_LE(redraws, 12);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 0) << "redrawn in place";
  EXPECT_NE(text.find("1000/1000"), std::string::npos) << "the last batch is always drawn";
  EXPECT_NE(text.find("32000 samples/s"), std::string::npos);
  bar.message("epoch 1/1 done");
  EXPECT_EQ(out.str().substr(out.str().size() - 15), "epoch 1/1 done\n");
}

TEST(Progress, PlainLinesAtEachTenth) {
  std::ostringstream out;
  ProgressBar bar(out, {.terminal = false});
  auto t0 = ProgressClock::time_point{};
  bar.start_epoch(3, 5, 200, 0, t0);
  for (int i = 1; i <= 200; ++i) bar.update(i, i * 10, 0.25, 0.75, t0 + i * 10ms);
  std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 10);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_NE(text.find("epoch 3/5 20/200 loss 0.2500 acc 0.750 1000 samples/s ETA 0:02 (10%)\n"), std::string::npos)
      << text;
}

TEST(Progress, PlainLinesAlsoEveryIntervalOnSlowEpochs) {
  std::ostringstream out;
  ProgressBar bar(out, {.terminal = false, .plain_interval = 30s});
  auto t0 = ProgressClock::time_point{};
  bar.start_epoch(1, 1, 1000, 0, t0);
  for (int i = 1; i <= 50; ++i) bar.update(i, i, 1.0, -1, t0 + i * 2s);  // 5% in 100 s
  std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
}

TEST(Progress, ResumedEpochStartsPartWay) {
  std::ostringstream out;
  ProgressBar bar(out, {.terminal = false});
  auto t0 = ProgressClock::time_point{};
  bar.start_epoch(2, 3, 100, 50, t0);  // resumed at batch 50: no line until 60%
  for (int i = 51; i <= 59; ++i) bar.update(i, (i - 50) * 8, 1.0, 0.5, t0 + (i - 50) * 1s);
  EXPECT_EQ(out.str(), "");
  bar.update(60, 80, 1.0, 0.5, t0 + 10s);
  EXPECT_EQ(out.str(), "epoch 2/3 60/100 loss 1.0000 acc 0.500 8 samples/s ETA 0:40 (60%)\n");
}

}  // namespace
}  // namespace dendrite::train
