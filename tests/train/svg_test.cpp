// The SVG chart writer: 1-2-5 ticks, tick labels, and a document with the title, panels, legend,
// curves and escaped text.
#include "dendrite/train/svg.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "dendrite/train/curves.h"
#include "train_test_util.h"

namespace dendrite::train {
namespace {

using testing::ScratchDir;

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1)) ++n;
  return n;
}

TEST(Svg, NiceTicks) {
  EXPECT_EQ(nice_ticks(0, 0.93, 6), (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  EXPECT_EQ(nice_ticks(0, 4690, 6), (std::vector<double>{0, 1000, 2000, 3000, 4000, 5000}));
  EXPECT_EQ(nice_ticks(0.31, 2.31, 5), (std::vector<double>{0, 0.5, 1, 1.5, 2, 2.5}));
  std::vector<double> single = nice_ticks(3, 3, 5);
  EXPECT_LE(single.front(), 3);
  EXPECT_GE(single.back(), 3);
  EXPECT_GE(single.size(), 2u);
  EXPECT_EQ(nice_ticks(std::nan(""), 1), (std::vector<double>{0, 1}));
}

TEST(Svg, TickLabels) {
  EXPECT_EQ(format_tick(0.6000000000000001, 0.2), "0.6");
  EXPECT_EQ(format_tick(2000, 1000), "2000");
  EXPECT_EQ(format_tick(1.5, 0.5), "1.5");
  EXPECT_EQ(format_tick(1e-17, 0.1), "0");
  EXPECT_EQ(format_tick(0.00002, 0.00001), "2e-05");
}

TEST(Svg, DocumentHasTitlePanelsLegendAndCurves) {
  Chart chart{.title = "run <a&b>",
              .panels = {Panel{.title = "Loss",
                               .x_label = "step",
                               .y_label = "loss",
                               .series = {Series{.label = "train", .points = {{0, 2.3}, {50, 1.0}, {100, 0.5}}},
                                          Series{.label = "test", .points = {{100, 0.6}}, .markers = true}}},
                         Panel{.title = "Accuracy", .x_label = "step", .y_label = "accuracy", .series = {}}}};
  std::string svg = to_svg(chart);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("width=\"1040\" height=\"416\""), std::string::npos);
  EXPECT_NE(svg.find(">run &lt;a&amp;b&gt;</text>"), std::string::npos);
  EXPECT_NE(svg.find(">Loss</text>"), std::string::npos);
  EXPECT_NE(svg.find(">Accuracy</text>"), std::string::npos);
  EXPECT_NE(svg.find(">train</text>"), std::string::npos);
  EXPECT_NE(svg.find(">no data yet</text>"), std::string::npos);
  EXPECT_EQ(count(svg, "<polyline"), 2u);
  EXPECT_EQ(count(svg, "<circle"), 1u);
  EXPECT_EQ(count(svg, "<svg"), count(svg, "</svg>"));
  EXPECT_EQ(count(svg, "<g "), count(svg, "</g>"));
}

TEST(Svg, LegendMovesAwayFromTheCurves) {
  // An accuracy curve rising into the top-right corner: the legend goes to the top-left instead.
  Series rising{.label = "train"};
  for (int i = 0; i <= 100; ++i) rising.points.emplace_back(i, 0.5 + 0.5 * i / 100.0);
  std::string svg = to_svg(Chart{.title = "t", .panels = {Panel{.title = "p", .series = {rising}}}});
  size_t legend = svg.find("fill-opacity=\"0.85\"");
  ASSERT_NE(legend, std::string::npos);
  size_t rect = svg.rfind("<rect x=\"", legend);
  double x = std::stod(svg.substr(rect + 9));
  EXPECT_LT(x, 200) << "legend at x = " << x << " of a 520-wide panel";
}

TEST(Svg, NonFiniteValuesBreakTheLine) {
  Chart chart{.title = "t",
              .panels = {Panel{
                  .title = "p",
                  .series = {Series{.label = "s", .points = {{0, 1}, {1, 2}, {2, std::nan("")}, {3, 1}, {4, 2}}}}}}};
  EXPECT_EQ(count(to_svg(chart), "<polyline"), 2u);
}

TEST(Svg, CurvesFromMetrics) {
  std::vector<MetricRecord> records{
      {{"kind", "train"}, {"step", 50}, {"loss", 1.0}, {"accuracy", 0.6}},
      {{"kind", "train"}, {"step", 100}, {"loss", 0.5}, {"accuracy", 0.8}},
      {{"kind", "epoch"}, {"step", 100}, {"test_loss", 0.55}, {"test_accuracy", 0.79}},
      {{"kind", "epoch"}, {"step", 200}, {"test_loss", 0.5}, {"test_accuracy", std::nan("")}},
      {{"kind", "other"}, {"step", 10}}};
  Chart chart = training_curves(records, "fashion");
  ASSERT_EQ(chart.panels.size(), 2u);
  EXPECT_EQ(chart.title, "fashion");
  const auto& loss = chart.panels[0].series;
  EXPECT_EQ(loss[0].points, (std::vector<std::pair<double, double>>{{50, 1.0}, {100, 0.5}}));
  EXPECT_EQ(loss[1].points, (std::vector<std::pair<double, double>>{{100, 0.55}, {200, 0.5}}));
  EXPECT_EQ(chart.panels[1].series[1].points, (std::vector<std::pair<double, double>>{{100, 0.79}}));
  ScratchDir dir;
  write_svg(dir / "curves.svg", chart);
  EXPECT_TRUE(std::filesystem::exists(dir / "curves.svg"));
}

}  // namespace
}  // namespace dendrite::train
