// Progress display for the training loop. On a terminal, one line redrawn in place with '\r' at
// most ~10 times a second:
//
//   epoch 2/10 [=====>    ] 312/469 loss 0.4123 acc 0.861 1834 samples/s ETA 0:41
//
// When stdout is a file or a pipe (CI logs, `| tee`), '\r' would leave a mess, so plain lines are
// printed instead, one each time progress crosses a tenth of the epoch or `plain_interval` passes.
//
// Thread-safety: one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace dendrite::train {

using ProgressClock = std::chrono::steady_clock;

// What one progress line shows.
struct ProgressState {
  int64_t epoch = 1;  // 1-based, for people
  int64_t epochs = 1;
  int64_t done = 0;        // batches done in this epoch
  int64_t total = 0;       // batches in this epoch
  double loss = 0.0;       // running mean of the epoch so far
  double accuracy = -1.0;  // running accuracy; not shown when negative
  double samples_per_sec = 0.0;
  double eta_seconds = -1.0;  // not shown when negative
};

// "0:41", "12:05", "1:02:03".
std::string format_duration(double seconds);
// The terminal line; `bar_width` is the number of cells between the brackets, 0 for no bar.
std::string format_progress(const ProgressState& state, int bar_width);

// True when the process's standard output is a terminal.
bool stdout_is_terminal();

struct ProgressOptions {
  bool terminal = true;
  std::chrono::milliseconds redraw_interval{100};
  std::chrono::seconds plain_interval{30};
  int bar_width = 20;
};

class ProgressBar {
 public:
  ProgressBar(std::ostream& out, ProgressOptions options);

  // Starts an epoch of `total` batches, of which `start` are already done (a resumed run).
  void start_epoch(int64_t epoch, int64_t epochs, int64_t total, int64_t start = 0,
                   ProgressClock::time_point now = ProgressClock::now());
  // Reports `done` batches and `samples` examples trained since start_epoch; draws when due (always
  // on the last batch).
  void update(int64_t done, int64_t samples, double loss, double accuracy,
              ProgressClock::time_point now = ProgressClock::now());
  // Prints a full line of its own (an epoch summary), clearing the bar first on a terminal.
  void message(const std::string& line);

 private:
  void draw(const ProgressState& state);

  std::ostream& out_;
  ProgressOptions options_;
  ProgressState state_;
  int64_t start_ = 0;
  ProgressClock::time_point epoch_start_{};
  ProgressClock::time_point last_draw_{};
  bool drawn_ = false;
  int64_t last_tenth_ = 0;
  size_t bar_length_ = 0;  // length of the line now on the terminal, to blank its remains
};

}  // namespace dendrite::train
