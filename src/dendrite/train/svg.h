// A small SVG line-chart writer: enough to draw training curves that a person opens in a browser
// and reads (panels side by side, axes with "nice" tick labels, grid, legend, title), with no
// plotting dependency. Output is plain SVG 1.1 text.
//
//   Chart chart{.title = "fashion-cnn", .panels = {{.title = "loss", .x_label = "step",
//               .series = {{.label = "train", .points = {{0, 2.3}, {100, 0.6}}}}}}};
//   write_svg(run_dir / "curves.svg", chart);
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace dendrite::train {

struct Series {
  std::string label{};
  std::vector<std::pair<double, double>> points{};  // (x, y); non-finite points are skipped
  std::string color{};                              // CSS colour; a palette colour when empty
  bool markers = false;                             // draw a dot at each point (sparse series)
};

struct Panel {
  std::string title{};
  std::string x_label{};
  std::string y_label{};
  std::vector<Series> series{};
};

struct Chart {
  std::string title{};
  std::vector<Panel> panels{};  // laid out left to right
  int panel_width = 520;
  int panel_height = 380;
};

// Tick positions covering [low, high] at a 1-2-5 step, about `target` of them (Heckbert, "Nice
// numbers for graph labels", Graphics Gems, 1990). The first tick is <= low, the last >= high.
std::vector<double> nice_ticks(double low, double high, int target = 5);
// A tick label with as many decimals as the step needs ("0.25", "1000", "2.5e-05").
std::string format_tick(double value, double step);

std::string to_svg(const Chart& chart);
// Writes to_svg(chart) to `path` atomically.
void write_svg(const std::filesystem::path& path, const Chart& chart);

}  // namespace dendrite::train
