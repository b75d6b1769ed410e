#include "dendrite/train/trainer.h"

#include <chrono>
#include <cmath>
#include <limits>

#include "dendrite/autograd/autograd.h"
#include "dendrite/core/allocator.h"
#include "dendrite/core/random.h"
#include "dendrite/core/threading.h"
#include "dendrite/dist/strategy.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/softmax.h"
#include "dendrite/optim/clip.h"
#include "dendrite/train/atomic_file.h"
#include "dendrite/train/curves.h"
#include "dendrite/train/interrupt.h"

namespace dendrite::train {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kMetricsFile = "metrics.jsonl";
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double ratio(double num, double den) { return den > 0 ? num / den : kNaN; }

// Examples whose highest logit is the label.
int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  std::vector<int64_t> predicted = to_vector<int64_t>(logits.argmax(1));
  std::vector<int64_t> truth = to_vector<int64_t>(labels);
  int64_t correct = 0;
  for (size_t i = 0; i < predicted.size() && i < truth.size(); ++i) correct += predicted[i] == truth[i];
  return correct;
}

// Ends a distributed run (a collective) and returns summary.json's dist fields; the writer logs
// one "rank" record per rank and the shards' staleness histogram to metrics.jsonl.
MetricRecord finish_distributed(dist::Strategy& strategy, int64_t samples, double train_seconds, MetricsLogger* log) {
  const std::vector<dist::RankStats> ranks = strategy.finish(samples, train_seconds);
  int64_t all_samples = 0, bytes = 0, updates = 0, dropped = 0;
  double longest = 0.0, comm = 0.0;
  dist::StalenessHistogram staleness{};
  for (const dist::RankStats& r : ranks) {
    all_samples += r.samples;
    bytes += r.bytes_sent;
    updates += r.updates;
    dropped += r.dropped;
    comm = std::max(comm, r.comm_seconds);
    if (!r.server) longest = std::max(longest, r.train_seconds);
    for (size_t k = 0; k < staleness.size(); ++k) staleness[k] += r.staleness[k];
    if (log != nullptr)
      log->log({{"kind", "rank"},
                {"rank", r.rank},
                {"role", r.server ? "server" : "worker"},
                {"samples", r.samples},
                {"samples_per_sec", ratio(static_cast<double>(r.samples), r.train_seconds)},
                {"seconds", r.train_seconds},
                {"comm_seconds", r.comm_seconds},
                {"bytes_sent", r.bytes_sent},
                {"updates", r.updates},
                {"dropped", r.dropped}});
  }
  size_t used = staleness.size();
  while (used > 0 && staleness[used - 1] == 0) --used;
  if (log != nullptr && updates > 0) {
    std::string bins = "[";
    for (size_t k = 0; k < used; ++k) bins += fmt::format("{}{}", k ? "," : "", staleness[k]);
    log->log({{"kind", "staleness"}, {"histogram", bins + "]"}, {"updates", updates}, {"dropped", dropped}});
  }
  MetricRecord fields{
      {"dist_mode", strategy.mode()},  {"ranks", static_cast<int64_t>(ranks.size())},
      {"workers", strategy.workers()}, {"samples_per_sec", ratio(static_cast<double>(all_samples), longest)},
      {"comm_seconds", comm},          {"bytes_sent", bytes}};
  if (updates > 0) {
    fields.emplace_back("server_updates", updates);
    fields.emplace_back("server_updates_per_sec", ratio(static_cast<double>(updates), longest));
    fields.emplace_back("dropped_gradients", dropped);
  }
  return fields;
}

// Running sums over the steps since the last "train" record.
struct Window {
  double loss_sum = 0.0;
  int64_t correct = 0, samples = 0;
  Clock::time_point start = Clock::now();
};

}  // namespace

Trainer::Trainer(nn::Module& model, optim::Optimizer& optimizer, data::DataLoader& train_loader,
                 data::DataLoader* test_loader, TrainerOptions options)
    : model_(model),
      optimizer_(optimizer),
      train_loader_(train_loader),
      test_loader_(test_loader),
      options_(std::move(options)) {
  DENDRITE_CHECK(options_.epochs >= 0, "Trainer: epochs must be >= 0, got {}", options_.epochs);
  DENDRITE_CHECK(options_.log_every >= 0, "Trainer: log_every must be >= 0, got {}", options_.log_every);
  DENDRITE_CHECK(options_.checkpoint_every >= 0, "Trainer: checkpoint_every must be >= 0, got {}",
                 options_.checkpoint_every);
  DENDRITE_CHECK(options_.clip_grad_norm >= 0, "Trainer: clip_grad_norm must be >= 0, got {}", options_.clip_grad_norm);
  DENDRITE_CHECK(options_.threads >= 0, "Trainer: threads must be >= 0, got {}", options_.threads);
  DENDRITE_CHECK(options_.target_accuracy >= 0 && options_.target_accuracy <= 1,
                 "Trainer: target_accuracy must be in [0, 1], got {}", options_.target_accuracy);
  DENDRITE_CHECK(options_.eval_every_steps >= 0, "Trainer: eval_every_steps must be >= 0, got {}",
                 options_.eval_every_steps);
  for (const auto& [name, gen] : options_.generators)
    DENDRITE_CHECK(gen != nullptr && name != "default",
                   "Trainer: generator '{}' must be non-null and not named 'default'", name);
}

bool Trainer::is_writer() const { return options_.strategy == nullptr || options_.strategy->is_writer(); }

RunSummary Trainer::fit() {
  const fs::path& dir = options_.out_dir;
  if (is_writer()) {
    DENDRITE_CHECK(!fs::exists(dir / "last") && !fs::exists(dir / kMetricsFile),
                   "Trainer: {} already holds a run (it has last/ or {}); resume it, or choose another directory",
                   dir.string(), kMetricsFile);
    fs::create_directories(dir);
    if (!options_.config.empty()) write_file_atomically(dir / options_.config_file, options_.config);
  }
  // Other ranks draw other dropout masks; rank 0 draws what a single process would.
  const uint64_t rank = options_.strategy != nullptr ? static_cast<uint64_t>(options_.strategy->comm().rank()) : 0;
  manual_seed(options_.seed + rank * 0x9E3779B97F4A7C15ULL);
  return run(dir, TrainerState{});
}

RunSummary Trainer::resume(const fs::path& run_dir) {
  TrainerState state = load_checkpoint(run_dir / "last", model_, &optimizer_);
  auto saved = [&](const std::string& name) -> const uint64_t* {
    for (const auto& [key, value] : state.generators)
      if (key == name) return &value;
    return nullptr;
  };
  const uint64_t* default_state = saved("default");
  DENDRITE_CHECK(default_state != nullptr, "checkpoint {}: no state for generator 'default'",
                 (run_dir / "last").string());
  for (const auto& [name, gen] : options_.generators)
    DENDRITE_CHECK(saved(name) != nullptr, "checkpoint {}: no state for generator '{}'", (run_dir / "last").string(),
                   name);
  default_generator().set_state(*default_state);
  for (const auto& [name, gen] : options_.generators) gen->set_state(*saved(name));
  if (is_writer()) truncate_metrics(run_dir / kMetricsFile, state.step);
  if (options_.strategy != nullptr) options_.strategy->resume_at(state.step);
  return run(run_dir, state);
}

bool Trainer::stop_requested() const {
  const bool asked = options_.should_stop && options_.should_stop();
  return asked || (options_.handle_sigint && SigintStop::requested());
}

void Trainer::checkpoint(const fs::path& dir, TrainerState state) {
  if (!is_writer()) return;
  // A parameter server's shards save their part of this step first (dist/ps_worker.h).
  if (options_.strategy != nullptr) options_.strategy->before_checkpoint(state.step);
  state.train_seconds = earlier_wall_ + seconds_since(wall_start_);
  state.generators = {{"default", default_generator().state()}};
  for (const auto& [name, gen] : options_.generators) state.generators.emplace_back(name, gen->state());
  save_checkpoint(dir, model_, &optimizer_, state);
}

void Trainer::sync_state() {
  if (options_.strategy != nullptr) options_.strategy->sync_state(model_);
}

void Trainer::note_accuracy(double accuracy, const TrainerState& state, double epoch, double train_seconds,
                            int64_t samples, MetricsLogger* log) {
  if (options_.target_accuracy <= 0 || target_ || !(accuracy >= options_.target_accuracy)) return;
  const int64_t workers = options_.strategy != nullptr ? options_.strategy->workers() : 1;
  target_ = TargetReached{.accuracy = accuracy,
                          .seconds = earlier_wall_ + seconds_since(wall_start_),
                          .train_seconds = train_seconds,
                          .step = state.step,
                          .epoch = epoch,
                          .samples = samples * workers};
  if (log != nullptr)
    log->log({{"kind", "target"},
              {"target", options_.target_accuracy},
              {"test_accuracy", accuracy},
              {"step", target_->step},
              {"epoch", target_->epoch},
              {"seconds", target_->seconds},
              {"train_seconds", target_->train_seconds},
              {"samples", target_->samples}});
}

void Trainer::evaluate_within_epoch(const TrainerState& state, MetricsLogger* log, double train_seconds,
                                    int64_t samples) {
  sync_state();
  if (test_loader_ == nullptr) return;
  const EvalResult result = evaluate(*test_loader_);
  const double epoch =
      static_cast<double>(state.epoch) +
      static_cast<double>(state.batch) / static_cast<double>(std::max<int64_t>(1, train_loader_.num_batches()));
  if (log != nullptr)
    log->log({{"kind", "eval"},
              {"epoch", epoch},
              {"step", state.step},
              {"test_loss", result.loss},
              {"test_accuracy", result.accuracy}});
  note_accuracy(result.accuracy, state, epoch, train_seconds, samples, log);
}

EvalResult Trainer::evaluate(data::DataLoader& loader) {
  const bool was_training = model_.is_training();
  model_.eval();
  autograd::NoGradGuard no_grad;
  EvalResult result;
  double loss_sum = 0.0;
  int64_t correct = 0;
  loader.set_epoch(0);
  for (auto& [x, y] : loader) {
    Tensor logits = model_(x);
    loss_sum += cross_entropy(logits, y, {.reduction = Reduction::sum}).item<double>();
    correct += count_correct(logits, y);
    result.examples += x.size(0);
  }
  model_.train(was_training);
  // Evaluation's buffers (other batch sizes, no gradients) are of no use to the training steps
  // that follow; cached, they would only add to the resident size (core/allocator.h).
  empty_cache();
  result.loss = ratio(loss_sum, static_cast<double>(result.examples));
  result.accuracy = ratio(static_cast<double>(correct), static_cast<double>(result.examples));
  return result;
}

bool Trainer::train_epoch(TrainerState& state, MetricsLogger* log, ProgressBar* bar, double& train_seconds,
                          int64_t& samples) {
  const int64_t total = train_loader_.num_batches();
  train_loader_.set_epoch(state.epoch, state.batch);
  model_.train();
  if (bar != nullptr) bar->start_epoch(state.epoch + 1, options_.epochs, total, state.batch);
  Window window;
  int64_t epoch_samples_here = 0;
  auto step_start = Clock::now();
  for (auto& [x, y] : train_loader_) {
    if (options_.scheduler != nullptr) optim::apply_schedule(optimizer_, *options_.scheduler);
    dist::Strategy* strategy = options_.strategy;
    if (strategy != nullptr) strategy->before_forward();
    optimizer_.zero_grad();
    Tensor logits = model_(x);
    Tensor loss = cross_entropy(logits, y, {.label_smoothing = options_.label_smoothing});
    loss.backward();
    if (strategy != nullptr) strategy->after_backward();
    if (options_.clip_grad_norm > 0) optim::clip_grad_norm_(optimizer_.params(), options_.clip_grad_norm);
    if (strategy != nullptr) {
      strategy->step(optimizer_);
    } else {
      optimizer_.step();
    }

    const int64_t n = x.size(0);
    const double batch_loss = loss.item<double>();
    const int64_t correct = count_correct(logits.detach(), y);
    train_seconds += seconds_since(step_start);
    samples += n;
    ++state.step;
    ++state.batch;
    state.epoch_loss_sum += batch_loss * static_cast<double>(n);
    state.epoch_correct += correct;
    state.epoch_samples += n;
    window.loss_sum += batch_loss * static_cast<double>(n);
    window.correct += correct;
    window.samples += n;
    epoch_samples_here += n;

    if (bar != nullptr)
      bar->update(state.batch, epoch_samples_here,
                  ratio(state.epoch_loss_sum, static_cast<double>(state.epoch_samples)),
                  ratio(static_cast<double>(state.epoch_correct), static_cast<double>(state.epoch_samples)));
    if (log != nullptr && options_.log_every > 0 && state.step % options_.log_every == 0) {
      log->log({{"kind", "train"},
                {"epoch", state.epoch + 1},
                {"step", state.step},
                {"loss", ratio(window.loss_sum, static_cast<double>(window.samples))},
                {"accuracy", ratio(static_cast<double>(window.correct), static_cast<double>(window.samples))},
                {"lr", optimizer_.lr()},
                {"samples_per_sec", ratio(static_cast<double>(window.samples), seconds_since(window.start))}});
      window = Window{};
    }
    if (stop_requested()) return false;
    // Both conditions are the same on every rank: sync_state is a collective.
    const bool mid_epoch = state.batch < total;
    const bool eval_now = options_.eval_every_steps > 0 && state.step % options_.eval_every_steps == 0 && mid_epoch;
    const bool save_now = options_.checkpoint_every > 0 && state.step % options_.checkpoint_every == 0 && mid_epoch;
    if (eval_now) {
      evaluate_within_epoch(state, log, train_seconds, samples);
    } else if (save_now) {
      sync_state();
    }
    if (save_now) checkpoint(run_dir_ / "last", state);
    step_start = Clock::now();
  }
  return true;
}

RunSummary Trainer::run(const fs::path& dir, TrainerState state) {
  run_dir_ = dir;
  if (options_.threads > 0) set_num_threads(options_.threads);
  std::optional<SigintStop> sigint;
  if (options_.handle_sigint) sigint.emplace();
  wall_start_ = Clock::now();
  earlier_wall_ = state.train_seconds;
  fs::path absolute = fs::absolute(dir);
  if (absolute.filename().empty()) absolute = absolute.parent_path();  // "runs/cnn/"
  const std::string title = options_.name.empty() ? absolute.filename().string() : options_.name;

  // A resumed run may have reached its target in an earlier session (metrics.jsonl, truncated to
  // the checkpoint's step, keeps that record).
  target_.reset();
  if (options_.target_accuracy > 0 && is_writer() && fs::exists(dir / kMetricsFile))
    for (const MetricRecord& r : read_metrics(dir / kMetricsFile)) {
      const MetricValue* kind = find(r, "kind");
      if (kind == nullptr || !kind->is_string() || kind->as_string() != "target") continue;
      auto number = [&](const char* key) {
        const MetricValue* v = find(r, key);
        return v != nullptr && v->is_number() ? v->as_double() : kNaN;
      };
      target_ = TargetReached{.accuracy = number("test_accuracy"),
                              .seconds = number("seconds"),
                              .train_seconds = number("train_seconds"),
                              .step = static_cast<int64_t>(number("step")),
                              .epoch = number("epoch"),
                              .samples = static_cast<int64_t>(number("samples"))};
      break;
    }

  std::optional<MetricsLogger> log;
  if (is_writer()) log.emplace(dir / kMetricsFile);
  if (options_.strategy != nullptr) options_.strategy->start(model_);
  std::optional<ProgressBar> bar;
  if (options_.progress != nullptr)
    bar.emplace(*options_.progress, ProgressOptions{.terminal = options_.progress_terminal});
  auto write_curves = [&] {
    if (is_writer()) write_svg(dir / "curves.svg", training_curves(read_metrics(dir / kMetricsFile), title));
  };

  RunSummary summary;
  double train_seconds = 0.0;
  int64_t samples = 0;
  bool stopped = false;
  while (state.epoch < options_.epochs) {
    const auto epoch_start = Clock::now();
    const double seconds_before = train_seconds;
    const int64_t samples_before = samples;
    if (!train_epoch(state, log ? &*log : nullptr, bar ? &*bar : nullptr, train_seconds, samples)) {
      stopped = true;
      checkpoint(dir / "last", state);
      if (bar)
        bar->message(fmt::format("stopped at epoch {} step {}; checkpoint saved in {}", state.epoch + 1, state.step,
                                 (dir / "last").string()));
      break;
    }
    const bool last_epoch = state.epoch + 1 == options_.epochs;
    summary.train_loss = ratio(state.epoch_loss_sum, static_cast<double>(state.epoch_samples));
    summary.train_accuracy = ratio(static_cast<double>(state.epoch_correct), static_cast<double>(state.epoch_samples));
    sync_state();  // every rank: rank 0 evaluates and checkpoints below
    if (test_loader_ != nullptr && (options_.eval_every_epoch || last_epoch)) {
      summary.test = evaluate(*test_loader_);
      note_accuracy(summary.test->accuracy, state, static_cast<double>(state.epoch + 1), train_seconds, samples,
                    log ? &*log : nullptr);
    }
    const double epoch_rate = ratio(static_cast<double>(samples - samples_before), train_seconds - seconds_before);
    if (log)
      log->log({{"kind", "epoch"},
                {"epoch", state.epoch + 1},
                {"step", state.step},
                {"train_loss", summary.train_loss},
                {"train_accuracy", summary.train_accuracy},
                {"test_loss", summary.test ? summary.test->loss : kNaN},
                {"test_accuracy", summary.test ? summary.test->accuracy : kNaN},
                {"lr", optimizer_.lr()},
                {"seconds", seconds_since(epoch_start)},
                {"samples_per_sec", epoch_rate}});
    if (bar) {
      std::string line = fmt::format("epoch {}/{}: train loss {:.4f} acc {:.4f}", state.epoch + 1, options_.epochs,
                                     summary.train_loss, summary.train_accuracy);
      if (summary.test)
        line += fmt::format(" | test loss {:.4f} acc {:.4f}", summary.test->loss, summary.test->accuracy);
      line += fmt::format(" | {:.1f} s, {:.0f} samples/s", seconds_since(epoch_start), epoch_rate);
      bar->message(line);
    }
    const bool improved = summary.test && summary.test->accuracy > state.best_metric;
    if (improved) {
      state.best_metric = summary.test->accuracy;
      state.best_epoch = state.epoch + 1;
    }
    ++state.epoch;
    state.batch = 0;
    state.epoch_loss_sum = 0.0;
    state.epoch_correct = 0;
    state.epoch_samples = 0;
    if (improved) checkpoint(dir / "best", state);
    checkpoint(dir / "last", state);
    write_curves();
  }

  summary.completed = !stopped;
  if (summary.completed && !summary.test && test_loader_ != nullptr) summary.test = evaluate(*test_loader_);
  if (state.step == 0) summary.train_loss = summary.train_accuracy = kNaN;
  summary.epochs = state.epoch;
  summary.steps = state.step;
  summary.best_test_accuracy = std::isfinite(state.best_metric) ? state.best_metric : kNaN;
  summary.best_epoch = state.best_epoch;
  summary.train_samples_per_sec = ratio(static_cast<double>(samples), train_seconds);
  summary.wall_seconds = earlier_wall_ + seconds_since(wall_start_);
  summary.target = target_;
  MetricRecord dist_fields;
  if (options_.strategy != nullptr)
    dist_fields = finish_distributed(*options_.strategy, samples, train_seconds, log ? &*log : nullptr);
  if (!is_writer()) return summary;
  write_curves();
  MetricRecord record{{"completed", summary.completed},
                      {"epochs", summary.epochs},
                      {"steps", summary.steps},
                      {"test_accuracy", summary.test ? summary.test->accuracy : kNaN},
                      {"test_loss", summary.test ? summary.test->loss : kNaN},
                      {"best_test_accuracy", summary.best_test_accuracy},
                      {"best_epoch", summary.best_epoch},
                      {"train_loss", summary.train_loss},
                      {"train_accuracy", summary.train_accuracy},
                      {"train_samples_per_sec", summary.train_samples_per_sec},
                      {"wall_seconds", summary.wall_seconds},
                      {"seed", options_.seed},
                      {"threads", num_threads()},
                      {"parameters", model_.parameter_count()}};
  if (options_.target_accuracy > 0) {
    const TargetReached none{.accuracy = kNaN, .seconds = kNaN, .train_seconds = kNaN, .step = -1, .epoch = kNaN};
    const TargetReached& t = target_ ? *target_ : none;
    record.insert(record.end(), {{"target_accuracy", options_.target_accuracy},
                                 {"target_reached", target_.has_value()},
                                 {"target_seconds", t.seconds},
                                 {"target_train_seconds", t.train_seconds},
                                 {"target_step", t.step},
                                 {"target_epoch", t.epoch},
                                 {"target_samples", target_ ? t.samples : -1},
                                 {"target_test_accuracy", t.accuracy}});
  }
  record.insert(record.end(), dist_fields.begin(), dist_fields.end());
  write_json_file(dir / "summary.json", record);
  return summary;
}

}  // namespace dendrite::train
