#include "dendrite/train/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "dendrite/train/atomic_file.h"

namespace dendrite::train {
namespace {

// Tableau's default palette: distinct hues that stay apart for colour-blind readers.
constexpr std::array<const char*, 6> kPalette{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

constexpr int kTitleHeight = 36;
constexpr int kMarginLeft = 68, kMarginRight = 18, kMarginTop = 34, kMarginBottom = 52;
constexpr const char* kFont = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\"";

double nice_number(double x, bool round) {
  double exponent = std::floor(std::log10(x));
  double fraction = x / std::pow(10.0, exponent);
  double nice;
  if (round)
    nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  else
    nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * std::pow(10.0, exponent);
}

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

struct Range {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  void add(double v) {
    low = std::min(low, v);
    high = std::max(high, v);
  }
  bool empty() const { return !(low <= high); }
};

bool finite(const std::pair<double, double>& p) { return std::isfinite(p.first) && std::isfinite(p.second); }

// Maps data coordinates to the pixels of one panel's plot area.
struct Frame {
  double x0, x1, y0, y1;          // plot area in pixels (y0 top)
  double xmin, xmax, ymin, ymax;  // data range
  double px(double x) const { return x0 + (x - xmin) / (xmax - xmin) * (x1 - x0); }
  double py(double y) const { return y1 - (y - ymin) / (ymax - ymin) * (y1 - y0); }
};

// The corner of the plot area (top-right first) whose legend box would hide the fewest stretches
// of curve; segments are sampled so that sparse series count by their lines, not just their dots.
std::pair<double, double> legend_corner(const Panel& panel, const Frame& f, double box_w, double box_h) {
  constexpr double kInset = 8;
  const std::array<std::pair<double, double>, 4> corners{{{f.x1 - box_w - kInset, f.y0 + kInset},
                                                          {f.x0 + kInset, f.y0 + kInset},
                                                          {f.x1 - box_w - kInset, f.y1 - box_h - kInset},
                                                          {f.x0 + kInset, f.y1 - box_h - kInset}}};
  std::array<int, 4> hidden{};
  auto count = [&](double px, double py) {
    for (size_t c = 0; c < corners.size(); ++c)
      if (px >= corners[c].first && px <= corners[c].first + box_w && py >= corners[c].second &&
          py <= corners[c].second + box_h)
        ++hidden[c];
  };
  for (const Series& s : panel.series) {
    for (size_t i = 0; i < s.points.size(); ++i) {
      if (!finite(s.points[i])) continue;
      count(f.px(s.points[i].first), f.py(s.points[i].second));
      if (i + 1 < s.points.size() && finite(s.points[i + 1]))
        for (int k = 1; k < 16; ++k) {
          double t = k / 16.0;
          count(f.px(s.points[i].first + t * (s.points[i + 1].first - s.points[i].first)),
                f.py(s.points[i].second + t * (s.points[i + 1].second - s.points[i].second)));
        }
    }
  }
  size_t best = static_cast<size_t>(std::min_element(hidden.begin(), hidden.end()) - hidden.begin());
  return corners[best];
}

void draw_panel(std::string& svg, const Panel& panel, double left, double top, int width, int height,
                size_t& palette_index) {
  Range xr, yr;
  for (const Series& s : panel.series)
    for (const auto& p : s.points)
      if (finite(p)) {
        xr.add(p.first);
        yr.add(p.second);
      }
  const bool has_data = !xr.empty();
  std::vector<double> xt = has_data ? nice_ticks(xr.low, xr.high, 6) : nice_ticks(0, 1, 6);
  std::vector<double> yt = has_data ? nice_ticks(yr.low, yr.high, 6) : nice_ticks(0, 1, 6);
  Frame f{left + kMarginLeft, left + width - kMarginRight,
          top + kMarginTop,   top + height - kMarginBottom,
          xt.front(),         xt.back(),
          yt.front(),         yt.back()};

  svg += fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\" {}>{}</text>\n",
      (f.x0 + f.x1) / 2, top + 20, kFont, escape(panel.title));
  // Grid and tick labels.
  svg += "<g stroke=\"#e6e6e6\" stroke-width=\"1\">\n";
  for (double x : xt)
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"/>\n", f.px(x), f.y0, f.y1);
  for (double y : yt)
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\"/>\n", f.x0, f.py(y), f.x1);
  svg += "</g>\n";
  svg += fmt::format("<g font-size=\"11\" fill=\"#333\" {}>\n", kFont);
  double xstep = xt.size() > 1 ? xt[1] - xt[0] : 1.0, ystep = yt.size() > 1 ? yt[1] - yt[0] : 1.0;
  for (double x : xt)
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", f.px(x), f.y1 + 16,
                       format_tick(x, xstep));
  for (double y : yt)
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", f.x0 - 6, f.py(y) + 4,
                       format_tick(y, ystep));
  svg += "</g>\n";
  svg += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"#444\"/>\n", f.x0,
      f.y0, f.x1 - f.x0, f.y1 - f.y0);
  // Axis labels.
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"12\" {}>{}</text>\n",
                     (f.x0 + f.x1) / 2, f.y1 + 38, kFont, escape(panel.x_label));
  svg += fmt::format(
      "<text x=\"{0:.1f}\" y=\"{1:.1f}\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 {0:.1f} "
      "{1:.1f})\" {2}>{3}</text>\n",
      left + 16, (f.y0 + f.y1) / 2, kFont, escape(panel.y_label));
  if (!has_data) {
    svg += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"13\" fill=\"#888\" {}>no data yet</text>\n",
        (f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2, kFont);
  }

  // Curves: a polyline per run of finite points.
  std::vector<std::string> colors;
  for (const Series& s : panel.series) {
    std::string color = s.color.empty() ? kPalette[palette_index++ % kPalette.size()] : s.color;
    colors.push_back(color);
    std::string run;
    auto flush = [&] {
      if (!run.empty())
        svg += fmt::format(
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\" stroke-linejoin=\"round\" points=\"{}\"/>\n",
            color, run);
      run.clear();
    };
    for (const auto& p : s.points) {
      if (!finite(p)) {
        flush();
        continue;
      }
      run += fmt::format("{}{:.1f},{:.1f}", run.empty() ? "" : " ", f.px(p.first), f.py(p.second));
    }
    flush();
    if (s.markers)
      for (const auto& p : s.points)
        if (finite(p))
          svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", f.px(p.first),
                             f.py(p.second), color);
  }

  // Legend in the top-right corner of the plot area, on a white box so curves under it stay legible.
  if (panel.series.empty()) return;
  size_t longest = 0;
  for (const Series& s : panel.series) longest = std::max(longest, s.label.size());
  double box_w = 40 + 7.0 * static_cast<double>(longest), box_h = 8 + 18.0 * static_cast<double>(panel.series.size());
  auto [bx, by] = legend_corner(panel, f, box_w, box_h);
  svg += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"white\" fill-opacity=\"0.85\" "
      "stroke=\"#bbb\"/>\n",
      bx, by, box_w, box_h);
  for (size_t i = 0; i < panel.series.size(); ++i) {
    double y = by + 15 + 18.0 * static_cast<double>(i);
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2.5\"/>\n", bx + 8,
        y - 4, bx + 28, y - 4, colors[i]);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" {}>{}</text>\n", bx + 34, y, kFont,
                       escape(panel.series[i].label));
  }
}

}  // namespace

std::vector<double> nice_ticks(double low, double high, int target) {
  if (!std::isfinite(low) || !std::isfinite(high)) return {0.0, 1.0};
  if (low > high) std::swap(low, high);
  if (high - low <= std::abs(high) * 1e-12) {  // one value: give it some room
    double pad = low == 0 ? 1.0 : std::abs(low) * 0.1;
    low -= pad;
    high += pad;
  }
  double range = nice_number(high - low, false);
  double step = nice_number(range / std::max(1, target - 1), true);
  double first = std::floor(low / step), last = std::ceil(high / step);
  std::vector<double> ticks;
  for (double k = first; k <= last + 0.5; ++k) ticks.push_back(k * step);
  if (ticks.size() < 2) ticks.push_back(ticks.back() + step);
  return ticks;
}

std::string format_tick(double value, double step) {
  if (std::abs(value) < std::abs(step) * 1e-9) return "0";
  if (std::abs(value) >= 1e6 || std::abs(step) < 1e-4) return fmt::format("{:g}", value);
  int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(std::abs(step)) + 1e-9)));
  return fmt::format("{:.{}f}", value, decimals);
}

std::string to_svg(const Chart& chart) {
  const int panels = std::max<int>(1, static_cast<int>(chart.panels.size()));
  const int width = panels * chart.panel_width;
  const int height = kTitleHeight + chart.panel_height;
  std::string svg = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} "
      "{1}\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{2}\" y=\"24\" text-anchor=\"middle\" font-size=\"17\" font-weight=\"bold\" {3}>{4}</text>\n",
      width, height, width / 2, kFont, escape(chart.title));
  size_t palette_index = 0;
  for (size_t i = 0; i < chart.panels.size(); ++i) {
    palette_index = 0;  // the same series order gets the same colours in every panel
    draw_panel(svg, chart.panels[i], static_cast<double>(i) * chart.panel_width, kTitleHeight, chart.panel_width,
               chart.panel_height, palette_index);
  }
  svg += "</svg>\n";
  return svg;
}

void write_svg(const std::filesystem::path& path, const Chart& chart) { write_file_atomically(path, to_svg(chart)); }

}  // namespace dendrite::train
