#include "dendrite/train/seq2seq_trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <numeric>
#include <optional>

#include "dendrite/autograd/autograd.h"
#include "dendrite/core/random.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/elementwise.h"
#include "dendrite/ops/reduction.h"
#include "dendrite/ops/softmax.h"
#include "dendrite/optim/clip.h"
#include "dendrite/train/atomic_file.h"
#include "dendrite/train/checkpoint.h"
#include "dendrite/train/curves.h"
#include "dendrite/train/interrupt.h"
#include "dendrite/train/metrics.h"
#include "dendrite/train/progress.h"
#include "dendrite/train/svg.h"

namespace dendrite::train {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Sources as a padded i64 [B, S] tensor and their lengths.
Tensor pad_sources(const std::vector<const std::vector<int64_t>*>& sources, std::vector<int64_t>& lengths) {
  size_t longest = 1;
  for (const auto* s : sources) longest = std::max(longest, s->size());
  std::vector<int64_t> flat(sources.size() * longest, 0);
  lengths.clear();
  for (size_t r = 0; r < sources.size(); ++r) {
    std::copy(sources[r]->begin(), sources[r]->end(), flat.begin() + static_cast<std::ptrdiff_t>(r * longest));
    lengths.push_back(static_cast<int64_t>(sources[r]->size()));
  }
  return tensor<int64_t>(flat, {static_cast<int64_t>(sources.size()), static_cast<int64_t>(longest)});
}

MetricRecord scores_record(const std::string& prefix, const DecodeScores& s, bool stress) {
  MetricRecord r = {{prefix + "_wer", s.wer}, {prefix + "_per", s.per}};
  if (stress)
    r.insert(r.end(), {{prefix + "_wer_no_stress", s.wer_no_stress}, {prefix + "_per_no_stress", s.per_no_stress}});
  r.insert(r.end(), {{prefix + "_words", s.words}, {prefix + "_words_per_sec", s.words_per_sec}});
  return r;
}

}  // namespace

int64_t max_target_length(int64_t source_length) { return 2 * source_length + 5; }

std::vector<std::vector<nn::Hypothesis>> decode_sources(nn::Seq2SeqModel& model,
                                                        const std::vector<std::vector<int64_t>>& sources, int64_t batch,
                                                        const nn::DecodeOptions& options) {
  DENDRITE_CHECK(batch >= 1, "decode: batch must be >= 1, got {}", batch);
  autograd::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<std::vector<nn::Hypothesis>> out(sources.size());
  std::vector<size_t> order;
  for (size_t i = 0; i < sources.size(); ++i) {
    if (sources[i].empty()) {
      out[i] = {nn::Hypothesis{}};  // nothing to read, nothing to say
    } else {
      order.push_back(i);
    }
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sources[a].size() < sources[b].size(); });
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(batch)) {
    const size_t end = std::min(order.size(), start + static_cast<size_t>(batch));
    std::vector<const std::vector<int64_t>*> chunk;
    nn::DecodeOptions o = options;
    o.max_length.clear();
    for (size_t k = start; k < end; ++k) {
      chunk.push_back(&sources[order[k]]);
      o.max_length.push_back(max_target_length(static_cast<int64_t>(sources[order[k]].size())));
    }
    std::vector<int64_t> lengths;
    const Tensor src = pad_sources(chunk, lengths);
    auto decoder = model.start_decoding(src, lengths);
    const auto n = static_cast<int64_t>(chunk.size());
    if (o.beam <= 1) {
      std::vector<nn::Hypothesis> hyps = nn::greedy_decode(*decoder, n,
                                                           {.bos = o.bos,
                                                            .eos = o.eos,
                                                            .max_length = o.max_length,
                                                            .beam = 1,
                                                            .nbest = 1,
                                                            .length_penalty = o.length_penalty});
      for (size_t k = 0; k < hyps.size(); ++k) out[order[start + k]] = {hyps[k]};
    } else {
      auto nbest = nn::beam_search(*decoder, n, o);
      for (size_t k = 0; k < nbest.size(); ++k) out[order[start + k]] = std::move(nbest[k]);
    }
  }
  model.train(was_training);
  return out;
}

DecodeScores evaluate_decoding(nn::Seq2SeqModel& model, const std::vector<SequenceItem>& items, int64_t batch,
                               int64_t beam, double length_penalty, const std::vector<int64_t>& stress_classes,
                               std::vector<std::vector<int64_t>>* best_out) {
  std::vector<std::vector<int64_t>> sources;
  for (const SequenceItem& item : items) sources.push_back(item.source);
  const auto start = Clock::now();
  const auto hyps = decode_sources(
      model, sources, batch,
      {.max_length = {1}, .beam = std::max<int64_t>(beam, 1), .nbest = 1, .length_penalty = length_penalty});
  const double elapsed = seconds_since(start);
  std::vector<std::vector<int64_t>> best = best_tokens(hyps);
  DecodeScores scores = score_hypotheses(items, best, stress_classes);
  scores.words_per_sec = elapsed > 0 ? static_cast<double>(items.size()) / elapsed : 0.0;
  if (best_out != nullptr) *best_out = std::move(best);
  return scores;
}

std::vector<std::vector<int64_t>> best_tokens(const std::vector<std::vector<nn::Hypothesis>>& nbest) {
  std::vector<std::vector<int64_t>> out;
  out.reserve(nbest.size());
  for (const auto& list : nbest) out.push_back(list.empty() ? std::vector<int64_t>{} : list.front().tokens);
  return out;
}

std::vector<std::vector<std::vector<int64_t>>> all_tokens(const std::vector<std::vector<nn::Hypothesis>>& nbest) {
  std::vector<std::vector<std::vector<int64_t>>> out(nbest.size());
  for (size_t i = 0; i < nbest.size(); ++i)
    for (const auto& h : nbest[i]) out[i].push_back(h.tokens);
  return out;
}

std::vector<std::vector<int64_t>> oracle_tokens(const std::vector<SequenceItem>& items,
                                                const std::vector<std::vector<std::vector<int64_t>>>& candidates) {
  DENDRITE_CHECK(items.size() == candidates.size(), "oracle_tokens: {} items but {} candidate lists", items.size(),
                 candidates.size());
  std::vector<std::vector<int64_t>> out(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    int64_t fewest = std::numeric_limits<int64_t>::max();
    for (const auto& candidate : candidates[i]) {
      for (const auto& reference : items[i].references) {
        const int64_t edits = edit_distance(candidate, reference);
        if (edits < fewest) {
          fewest = edits;
          out[i] = candidate;
        }
      }
    }
  }
  return out;
}

DecodeScores score_hypotheses(const std::vector<SequenceItem>& items, const std::vector<std::vector<int64_t>>& best,
                              const std::vector<int64_t>& stress_classes) {
  DENDRITE_CHECK(items.size() == best.size(), "score_hypotheses: {} items but {} hypotheses", items.size(),
                 best.size());
  SequenceErrorRates rates, stress_free(stress_classes);
  for (size_t i = 0; i < items.size(); ++i) {
    rates.add(best[i], items[i].references);
    if (!stress_classes.empty()) stress_free.add(best[i], items[i].references);
  }
  return {.wer = rates.wer(),
          .per = rates.per(),
          .wer_no_stress = stress_free.wer(),
          .per_no_stress = stress_free.per(),
          .words = rates.words()};
}

Seq2SeqTrainer::Seq2SeqTrainer(nn::Seq2SeqModel& model, optim::Optimizer& optimizer, const Seq2SeqData& data,
                               Seq2SeqTrainerOptions options)
    : model_(model), optimizer_(optimizer), data_(data), options_(std::move(options)) {
  DENDRITE_CHECK(options_.epochs >= 1, "Seq2SeqTrainer: epochs must be >= 1, got {}", options_.epochs);
  DENDRITE_CHECK(options_.batch >= 1, "Seq2SeqTrainer: batch must be >= 1, got {}", options_.batch);
  DENDRITE_CHECK(!data_.train.empty(), "Seq2SeqTrainer: no training pairs");
}

Tensor Seq2SeqTrainer::batch_loss(const data::SequenceBatch& b) {
  const Tensor logits = model_.forward_teacher(b.source, b.source_lengths, b.target_in);
  const Tensor losses = cross_entropy(logits.reshape({-1, logits.size(-1)}), b.target_out.reshape({-1}),
                                      {.reduction = Reduction::none, .label_smoothing = options_.label_smoothing});
  return sum(losses * b.target_mask.reshape({-1})) / static_cast<double>(std::max<int64_t>(b.target_tokens, 1));
}

double Seq2SeqTrainer::evaluate_loss(const std::vector<data::SequencePair>& pairs) {
  if (pairs.empty()) return 0.0;
  autograd::NoGradGuard no_grad;
  const bool was_training = model_.is_training();
  model_.eval();
  double total = 0.0;
  int64_t tokens = 0;
  for (const auto& idx : data::bucket_batches(pairs, options_.batch * 4, false, 0, 0)) {
    data::SequenceBatch b = data::make_batch(pairs, idx);
    total += batch_loss(b).item<double>() * static_cast<double>(b.target_tokens);
    tokens += b.target_tokens;
  }
  model_.train(was_training);
  return total / static_cast<double>(std::max<int64_t>(tokens, 1));
}

Seq2SeqSummary Seq2SeqTrainer::fit() {
  const fs::path dir = options_.out_dir;
  DENDRITE_CHECK(!fs::exists(dir / "metrics.jsonl") && !fs::exists(dir / "last"),
                 "{}: already holds a run; choose another directory", dir.string());
  fs::create_directories(dir);
  if (!options_.config.empty()) write_file_atomically(dir / options_.config_file, options_.config);
  return run(TrainerState{});
}

Seq2SeqSummary Seq2SeqTrainer::resume() {
  const fs::path dir = options_.out_dir;
  DENDRITE_CHECK(fs::exists(dir / "last") || fs::exists(dir.string() + "/last.old"),
                 "{}: no checkpoint to resume (no last/)", dir.string());
  TrainerState state = load_checkpoint(dir / "last", model_, &optimizer_);
  for (const auto& [name, value] : state.generators)
    if (name == "default") default_generator().set_state(value);
  truncate_metrics(dir / "metrics.jsonl", state.step);
  return run(state);
}

void Seq2SeqTrainer::checkpoint(const fs::path& dir, TrainerState state) {
  // The dropout masks of a resumed run continue where these left off.
  state.generators = {{"default", default_generator().state()}};
  save_checkpoint(dir, model_, &optimizer_, state);
}

Seq2SeqSummary Seq2SeqTrainer::run(TrainerState state) {
  const fs::path dir = options_.out_dir;
  const auto wall_start = Clock::now();
  MetricsLogger log(dir / "metrics.jsonl");
  std::optional<ProgressBar> bar;
  if (options_.progress != nullptr)
    bar.emplace(*options_.progress, ProgressOptions{.terminal = options_.progress_terminal});
  std::optional<SigintStop> sigint;
  if (options_.handle_sigint) sigint.emplace();
  auto stop = [&] { return (options_.should_stop && options_.should_stop()) || (sigint && SigintStop::requested()); };

  std::vector<SequenceItem> dev = data_.dev;
  if (options_.dev_limit > 0 && static_cast<int64_t>(dev.size()) > options_.dev_limit)
    dev.resize(static_cast<size_t>(options_.dev_limit));
  std::vector<data::SequencePair> dev_pairs;
  for (const SequenceItem& item : dev) dev_pairs.push_back({item.source, item.references.front()});

  Seq2SeqSummary summary;
  summary.epochs = state.epoch;
  summary.best_epoch = state.best_epoch;
  double best_wer = state.best_epoch >= 0 ? -state.best_metric : 2.0;
  double train_seconds = state.train_seconds, session_seconds = 0.0;
  int64_t trained_tokens = 0;
  for (int64_t epoch = state.epoch; epoch < options_.epochs; ++epoch) {
    model_.train();
    const auto batches = data::bucket_batches(data_.train, options_.batch, true, options_.seed, epoch);
    if (bar) bar->start_epoch(epoch + 1, options_.epochs, static_cast<int64_t>(batches.size()));
    // A run resumed mid-epoch skips the batches it trained and keeps their loss in the epoch mean
    // (TrainerState's epoch_samples counts target tokens here).
    const auto skip = static_cast<size_t>(epoch == state.epoch ? state.batch : 0);
    double epoch_loss = skip > 0 ? state.epoch_loss_sum : 0.0, window_loss = 0.0;
    int64_t epoch_tokens = skip > 0 ? state.epoch_samples : 0, window_tokens = 0, samples = 0;
    int64_t done = static_cast<int64_t>(skip);
    const auto epoch_start = Clock::now();
    bool stopped = false;
    for (size_t k = skip; k < batches.size(); ++k) {
      const auto& idx = batches[k];
      data::SequenceBatch b = data::make_batch(data_.train, idx);
      if (options_.scheduler != nullptr) optim::apply_schedule(optimizer_, *options_.scheduler);
      optimizer_.zero_grad();
      Tensor loss = batch_loss(b);
      loss.backward();
      if (options_.clip_grad_norm > 0) optim::clip_grad_norm_(optimizer_.params(), options_.clip_grad_norm);
      optimizer_.step();
      ++state.step;
      const double value = loss.item<double>() * static_cast<double>(b.target_tokens);
      epoch_loss += value;
      window_loss += value;
      epoch_tokens += b.target_tokens;
      window_tokens += b.target_tokens;
      trained_tokens += b.target_tokens;
      samples += static_cast<int64_t>(idx.size());
      ++done;
      if (options_.log_every > 0 && state.step % options_.log_every == 0) {
        log.log({{"kind", "train"},
                 {"step", state.step},
                 {"epoch", epoch + 1},
                 {"loss", window_loss / static_cast<double>(window_tokens)},
                 {"lr", optimizer_.lr()}});
        window_loss = 0.0;
        window_tokens = 0;
      }
      if (bar) bar->update(done, samples, epoch_loss / static_cast<double>(epoch_tokens), -1.0);
      if (stop()) {
        stopped = true;
        break;
      }
    }
    const double seconds = seconds_since(epoch_start);
    train_seconds += seconds;
    session_seconds += seconds;
    summary.train_loss = epoch_loss / static_cast<double>(std::max<int64_t>(epoch_tokens, 1));
    state.train_seconds = train_seconds;
    if (stopped) {
      state.epoch = epoch;
      state.batch = done;
      state.epoch_loss_sum = epoch_loss;
      state.epoch_samples = epoch_tokens;
      checkpoint(dir / "last", state);
      break;
    }
    state.epoch = epoch + 1;
    state.batch = 0;
    state.epoch_loss_sum = 0.0;
    state.epoch_samples = 0;
    const double dev_loss = evaluate_loss(dev_pairs);
    const DecodeScores dev_scores =
        evaluate_decoding(model_, dev, options_.eval_batch, 1, options_.length_penalty, options_.stress_classes);
    MetricRecord record = {{"kind", "epoch"},
                           {"step", state.step},
                           {"epoch", epoch + 1},
                           {"train_loss", summary.train_loss},
                           {"test_loss", dev_loss},
                           {"test_accuracy", 1.0 - dev_scores.wer},
                           {"dev_wer", dev_scores.wer},
                           {"dev_per", dev_scores.per},
                           {"train_seconds", train_seconds}};
    if (!options_.stress_classes.empty())
      record.insert(record.end(),
                    {{"dev_wer_no_stress", dev_scores.wer_no_stress}, {"dev_per_no_stress", dev_scores.per_no_stress}});
    log.log(record);
    if (bar) {
      bar->message(fmt::format("epoch {}/{}: train loss {:.4f}, dev loss {:.4f}, dev WER {:.2f}% PER {:.2f}% (greedy)",
                               epoch + 1, options_.epochs, summary.train_loss, dev_loss, 100 * dev_scores.wer,
                               100 * dev_scores.per));
    }
    summary.epochs = epoch + 1;
    if (dev_scores.wer < best_wer) {
      best_wer = dev_scores.wer;
      summary.best_epoch = epoch + 1;
      state.best_metric = -dev_scores.wer;
      state.best_epoch = epoch + 1;
      checkpoint(dir / "best", state);
    }
    checkpoint(dir / "last", state);
  }
  summary.steps = state.step;
  summary.completed = summary.epochs == options_.epochs;
  summary.train_seconds = train_seconds;
  summary.train_tokens_per_sec = session_seconds > 0 ? static_cast<double>(trained_tokens) / session_seconds : 0.0;

  // The test set is decoded once, by the best model, and only at the end of a whole run: a stopped
  // run should stop now, not after minutes of beam search.
  if (summary.completed) {
    if (fs::exists(dir / "best")) load_checkpoint(dir / "best", model_, nullptr);
    const auto& classes = options_.stress_classes;
    summary.dev_greedy = evaluate_decoding(model_, dev, options_.eval_batch, 1, options_.length_penalty, classes);
    summary.test_greedy =
        evaluate_decoding(model_, data_.test, options_.eval_batch, 1, options_.length_penalty, classes);
    summary.test_beam = evaluate_decoding(model_, data_.test, std::max<int64_t>(1, options_.eval_batch / options_.beam),
                                          options_.beam, options_.length_penalty, classes);
  }
  summary.wall_seconds = seconds_since(wall_start);

  MetricRecord out = {{"completed", summary.completed},
                      {"epochs", summary.epochs},
                      {"steps", summary.steps},
                      {"train_loss", summary.train_loss},
                      {"best_epoch", summary.best_epoch},
                      {"wer", summary.test_beam.wer},
                      {"per", summary.test_beam.per},
                      {"beam", options_.beam},
                      {"length_penalty", options_.length_penalty}};
  const bool stress = !options_.stress_classes.empty();
  if (stress)
    out.insert(out.end(), {{"wer_no_stress", summary.test_beam.wer_no_stress},
                           {"per_no_stress", summary.test_beam.per_no_stress}});
  for (const auto& part :
       {scores_record("test_greedy", summary.test_greedy, stress),
        scores_record("test_beam", summary.test_beam, stress), scores_record("dev_greedy", summary.dev_greedy, stress)})
    out.insert(out.end(), part.begin(), part.end());
  out.insert(out.end(), {{"parameters", model_.parameter_count()},
                         {"train_seconds", summary.train_seconds},
                         {"train_tokens_per_sec", summary.train_tokens_per_sec},
                         {"wall_seconds", summary.wall_seconds}});
  write_json_file(dir / "summary.json", out);
  const std::string title = options_.name.empty() ? dir.filename().string() : options_.name;
  write_svg(dir / "curves.svg", training_curves(read_metrics(dir / "metrics.jsonl"), title));
  return summary;
}

}  // namespace dendrite::train
