#include "dendrite/train/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace dendrite::train {

std::string format_duration(double seconds) {
  auto total = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  int64_t h = total / 3600, m = total / 60 % 60, s = total % 60;
  return h > 0 ? fmt::format("{}:{:02}:{:02}", h, m, s) : fmt::format("{}:{:02}", m, s);
}

std::string format_progress(const ProgressState& st, int bar_width) {
  std::string line = fmt::format("epoch {}/{} ", st.epoch, st.epochs);
  if (bar_width > 0) {
    double fraction =
        st.total > 0 ? std::clamp(static_cast<double>(st.done) / static_cast<double>(st.total), 0.0, 1.0) : 0.0;
    int filled = static_cast<int>(fraction * bar_width);
    std::string cells(static_cast<size_t>(bar_width), ' ');
    std::fill_n(cells.begin(), filled, '=');
    if (filled < bar_width && filled > 0) cells[static_cast<size_t>(filled - 1)] = '>';
    if (filled < bar_width && st.done > 0 && filled == 0) cells[0] = '>';
    line += "[" + cells + "] ";
  }
  line += fmt::format("{}/{} loss {:.4f}", st.done, st.total, st.loss);
  if (st.accuracy >= 0) line += fmt::format(" acc {:.3f}", st.accuracy);
  line += fmt::format(" {:.0f} samples/s", st.samples_per_sec);
  if (st.eta_seconds >= 0) line += " ETA " + format_duration(st.eta_seconds);
  return line;
}

bool stdout_is_terminal() { return ::isatty(::fileno(stdout)) == 1; }

ProgressBar::ProgressBar(std::ostream& out, ProgressOptions options) : out_(out), options_(options) {}

void ProgressBar::start_epoch(int64_t epoch, int64_t epochs, int64_t total, int64_t start,
                              ProgressClock::time_point now) {
  state_ = ProgressState{.epoch = epoch, .epochs = epochs, .done = start, .total = total};
  start_ = start;
  epoch_start_ = now;
  last_draw_ = now;
  drawn_ = false;
  last_tenth_ = total > 0 ? start * 10 / total : 0;
}

void ProgressBar::update(int64_t done, int64_t samples, double loss, double accuracy, ProgressClock::time_point now) {
  double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  state_.done = done;
  state_.loss = loss;
  state_.accuracy = accuracy;
  state_.samples_per_sec = elapsed > 0 ? static_cast<double>(samples) / elapsed : 0.0;
  int64_t batches = done - start_;
  state_.eta_seconds =
      batches > 0 ? elapsed / static_cast<double>(batches) * static_cast<double>(state_.total - done) : -1.0;

  const bool last = done >= state_.total;
  bool due;
  if (options_.terminal) {
    due = last || !drawn_ || now - last_draw_ >= options_.redraw_interval;
  } else {
    int64_t tenth = state_.total > 0 ? done * 10 / state_.total : 0;
    due = tenth > last_tenth_ || now - last_draw_ >= options_.plain_interval;
    last_tenth_ = std::max(last_tenth_, tenth);
  }
  if (!due) return;
  last_draw_ = now;
  drawn_ = true;
  draw(state_);
}

void ProgressBar::draw(const ProgressState& state) {
  if (options_.terminal) {
    std::string line = format_progress(state, options_.bar_width);
    size_t blank = bar_length_ > line.size() ? bar_length_ - line.size() : 0;
    out_ << '\r' << line << std::string(blank, ' ');
    bar_length_ = line.size();
  } else {
    int64_t percent = state.total > 0 ? state.done * 100 / state.total : 100;
    out_ << format_progress(state, 0) << fmt::format(" ({}%)", percent) << '\n';
  }
  out_.flush();
}

void ProgressBar::message(const std::string& line) {
  if (options_.terminal && bar_length_ > 0) {
    out_ << '\r' << std::string(bar_length_, ' ') << '\r';
    bar_length_ = 0;
  }
  out_ << line << '\n';
  out_.flush();
}

}  // namespace dendrite::train
