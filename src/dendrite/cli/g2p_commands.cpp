// `dendrite train|eval|predict` for g2p runs (g2p.h).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <fstream>
#include <optional>

#include "dendrite/cli/builders.h"
#include "dendrite/cli/g2p.h"
#include "dendrite/cli/recipe_files.h"
#include "dendrite/cli/run_dir.h"
#include "dendrite/core/error.h"
#include "dendrite/core/random.h"
#include "dendrite/core/threading.h"
#include "dendrite/train/seq_metrics.h"

namespace dendrite::cli {
namespace fs = std::filesystem;
namespace {

void set_threads(const std::optional<int64_t>& threads) {
  DENDRITE_CHECK(!threads || *threads >= 1, "--threads must be >= 1, got {}", threads.value_or(0));
  if (threads) set_num_threads(static_cast<int>(*threads));
}

std::string pronunciation(const Pronouncer& p, const nn::Hypothesis& h) {
  return fmt::format("{}", fmt::join(p.phonemes.decode(h.tokens), " "));
}

std::vector<int64_t> to_classes(const std::vector<int64_t>& tokens, const std::vector<int64_t>& classes) {
  std::vector<int64_t> out;
  for (int64_t t : tokens) out.push_back(classes.at(static_cast<size_t>(t)));
  return out;
}

// `dendrite eval --errors FILE`: one line per test word whose best beam hypothesis is none of its
// references: the word, the prediction, the references (" | " between them), the phoneme edit
// distance to the nearest reference, and whether only stress digits are wrong. Returns the count.
int64_t write_errors(std::ofstream& file, const Pronouncer& p, const std::vector<train::SequenceItem>& items,
                     const std::vector<std::vector<int64_t>>& best, const std::vector<int64_t>& classes) {
  file << "word\tpredicted\treferences\tphoneme_errors\tstress_only\n";
  int64_t wrong = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& refs = items[i].references;
    if (std::find(refs.begin(), refs.end(), best[i]) != refs.end()) continue;
    int64_t distance = INT64_MAX;
    bool stress_only = false;
    const std::vector<int64_t> predicted_classes = to_classes(best[i], classes);
    std::vector<std::string> shown;
    for (const auto& r : refs) {
      distance = std::min(distance, train::edit_distance(best[i], r));
      stress_only = stress_only || predicted_classes == to_classes(r, classes);
      shown.push_back(fmt::format("{}", fmt::join(p.phonemes.decode(r), " ")));
    }
    file << fmt::format("{}\t{}\t{}\t{}\t{}\n", fmt::join(p.graphemes.decode(items[i].source), ""),
                        fmt::join(p.phonemes.decode(best[i]), " "), fmt::join(shown, " | "), distance,
                        stress_only ? "yes" : "no");
    ++wrong;
  }
  return wrong;
}

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// `dendrite eval --rescore`: each system's beam search alone, the oracle of the n-best lists, and
// the joined lists reranked at each weight.
struct RescoredEvaluation {
  train::DecodeScores beamed, rescorer_alone;
  // Oracles: the error rates if every word took its candidate nearest a reference, the most any
  // weight (or any reranker) could get right; they tell whether a wider beam or better scores are
  // the thing to try.
  train::DecodeScores own_oracle, their_oracle, joined_oracle;
  double candidates = 0.0;                                       // distinct joined candidates a word, on average
  std::vector<std::pair<double, train::DecodeScores>> rescored;  // (weight, scores)
  std::vector<std::vector<int64_t>> best;                        // the first weight's choices
};

// `items` read first phoneme first. Each system's n-best is decoded once, both with `options`; every
// weight reranks the same scored candidates.
RescoredEvaluation evaluate_rescored(const Pronouncer& p, const std::vector<train::SequenceItem>& items,
                                     int64_t beam_batch, int64_t batch, const nn::DecodeOptions& options,
                                     const std::vector<double>& weights, const std::vector<int64_t>& classes) {
  std::vector<std::vector<int64_t>> sources;
  for (const auto& item : items) sources.push_back(item.source);
  const auto words_per_sec = [&](double seconds) {
    return seconds > 0 ? static_cast<double>(items.size()) / seconds : 0.0;
  };
  RescoredEvaluation e;
  auto start = Clock::now();
  const auto own = p.decode_ids(sources, beam_batch, options);
  const double own_seconds = seconds_since(start);
  e.beamed = train::score_hypotheses(items, train::best_tokens(own), classes);
  e.beamed.words_per_sec = words_per_sec(own_seconds);
  start = Clock::now();
  const auto theirs = p.rescorer->decode_ids(sources, beam_batch, options);
  const double their_seconds = seconds_since(start);
  e.rescorer_alone = train::score_hypotheses(items, train::best_tokens(theirs), classes);
  e.rescorer_alone.words_per_sec = words_per_sec(their_seconds);
  start = Clock::now();
  const auto scored = p.score_joined(sources, own, theirs, batch);
  const double all_seconds = own_seconds + their_seconds + seconds_since(start);

  std::vector<std::vector<std::vector<int64_t>>> joined(scored.size());
  for (size_t i = 0; i < scored.size(); ++i) {
    for (const auto& c : scored[i]) joined[i].push_back(c.tokens);
    e.candidates += static_cast<double>(scored[i].size());
  }
  e.candidates /= static_cast<double>(std::max<size_t>(scored.size(), 1));
  e.own_oracle = train::score_hypotheses(items, train::oracle_tokens(items, train::all_tokens(own)));
  e.their_oracle = train::score_hypotheses(items, train::oracle_tokens(items, train::all_tokens(theirs)));
  e.joined_oracle = train::score_hypotheses(items, train::oracle_tokens(items, joined));

  for (double weight : weights) {
    const std::vector<double> pair = {1.0, weight};
    std::vector<std::vector<int64_t>> chosen =
        train::best_tokens(train::rank_candidates(scored, pair, options.length_penalty));
    train::DecodeScores s = train::score_hypotheses(items, chosen, classes);
    s.words_per_sec = words_per_sec(all_seconds);
    if (e.rescored.empty()) e.best = std::move(chosen);  // what --errors lists
    e.rescored.emplace_back(weight, s);
  }
  return e;
}

void print_rescored(std::ostream& out, const RescoredEvaluation& e, const std::string& split, int64_t beam) {
  const train::DecodeScores& r = e.rescorer_alone;
  out << fmt::format("rescorer alone, beam {}:  WER {:.2f}%  PER {:.2f}%  ({:.0f} words/s)\n", beam, 100 * r.wer,
                     100 * r.per, r.words_per_sec);
  out << fmt::format(
      "oracle (a reference among the candidates), beam {}:  this system's {} best WER {:.2f}%  PER {:.2f}%,  "
      "the rescorer's WER {:.2f}%  PER {:.2f}%,  joined ({:.1f} candidates a word) WER {:.2f}%  PER {:.2f}%\n",
      beam, beam, 100 * e.own_oracle.wer, 100 * e.own_oracle.per, 100 * e.their_oracle.wer, 100 * e.their_oracle.per,
      e.candidates, 100 * e.joined_oracle.wer, 100 * e.joined_oracle.per);
  out << fmt::format("{0}_oracle_wer {1:.6f}  {0}_oracle_per {2:.6f}  {0}_oracle_candidates {3:.3f}\n", split,
                     e.joined_oracle.wer, e.joined_oracle.per, e.candidates);
  for (const auto& [weight, s] : e.rescored) {
    out << fmt::format("rescored (weight {}), beam {}:  WER {:.2f}%  PER {:.2f}%  ({:.0f} words/s, both systems)\n",
                       weight, beam, 100 * s.wer, 100 * s.per, s.words_per_sec);
    out << fmt::format("stress ignored, rescored (weight {}):  WER {:.2f}%  PER {:.2f}%\n", weight,
                       100 * s.wer_no_stress, 100 * s.per_no_stress);
    out << fmt::format(
        "{0}_rescored_wer {1:.6f}  {0}_rescored_per {2:.6f}  {0}_rescored_wer_no_stress {3:.6f}  "
        "{0}_rescored_per_no_stress {4:.6f}  rescore_weight {5}\n",
        split, s.wer, s.per, s.wer_no_stress, s.per_no_stress, weight);
  }
}

}  // namespace

bool train_args_are_seq2seq(const TrainArgs& args) {
  if (!args.resume.empty()) return run_is_seq2seq(args.resume);
  if (args.recipe.empty()) return false;
  Recipe r = parse_recipe_file(resolve_recipe(args.recipe));
  for (const std::string& assignment : args.sets) set_recipe_key(r, assignment);
  return is_seq2seq_architecture(r.model.architecture);
}

bool run_is_seq2seq(const fs::path& run_dir) {
  if (!fs::is_regular_file(run_dir / kConfigFile)) return false;
  return is_seq2seq_architecture(parse_recipe_file(run_dir / kConfigFile).model.architecture);
}

// A resumed run keeps its config.toml: only the length of the run and the thread count may change,
// as for classification runs (train_command.cpp).
Recipe resume_recipe(const TrainArgs& a) {
  Recipe r = read_run_recipe(a.resume);
  if (!a.recipe.empty()) {
    const Recipe given = parse_recipe_file(resolve_recipe(a.recipe));
    DENDRITE_CHECK(given.name == r.name, "--resume {}: the run is of recipe '{}', not '{}'", a.resume, r.name,
                   given.name);
  }
  const bool fixed =
      a.batch || a.lr || a.seed || a.out || a.precision || a.limit_train || a.limit_test || !a.sets.empty();
  DENDRITE_CHECK(!fixed, "--resume {}: only --epochs and --threads may change when resuming ({} fixes the rest)",
                 a.resume, (fs::path(a.resume) / kConfigFile).string());
  if (a.epochs) r.train.epochs = *a.epochs;
  if (a.threads) r.train.threads = *a.threads;
  r.train.out = a.resume;
  return r;
}

int g2p_train_command(const TrainArgs& args, std::ostream& out, bool terminal) {
  const bool resume = !args.resume.empty();
  Recipe recipe;
  if (resume) {
    recipe = resume_recipe(args);
    validate_recipe(recipe, (fs::path(args.resume) / kConfigFile).string());
  } else {
    const fs::path file = resolve_recipe(args.recipe);
    recipe = parse_recipe_file(file);
    apply_train_flags(recipe, args);
    validate_recipe(recipe, file.string());
  }
  if (args.print_recipe) {
    out << to_toml(recipe);
    return 0;
  }
  if (recipe.train.threads > 0) set_num_threads(static_cast<int>(recipe.train.threads));
  const kernels::ScopedMathPrecision precision(math_precision_of(recipe.train));
  const fs::path run_dir = recipe.train.out.empty() ? default_run_dir(recipe.name) : fs::path(recipe.train.out);
  if (resume) {
    DENDRITE_CHECK(fs::exists(run_dir / "last"), "--resume {}: the run has no checkpoint (no last/)", args.resume);
  } else {
    DENDRITE_CHECK(!fs::exists(run_dir / "metrics.jsonl") && !fs::exists(run_dir / "last"),
                   "{}: already holds a run; choose another directory with --out", run_dir.string());
  }

  G2PData g = load_g2p_data(recipe);
  manual_seed(static_cast<uint64_t>(recipe.train.seed));
  std::shared_ptr<nn::Seq2SeqModel> model = build_g2p_model(recipe.model, g.graphemes.size(), g.phonemes.size());
  std::unique_ptr<optim::Optimizer> optimizer = build_optimizer(recipe.optim, model->named_parameters());
  const auto pairs = static_cast<int64_t>(g.data.train.size());
  const int64_t steps_per_epoch = (pairs + recipe.train.batch - 1) / recipe.train.batch;
  std::unique_ptr<optim::LRScheduler> schedule =
      build_schedule(recipe.schedule, recipe.optim.lr, recipe.train.epochs, steps_per_epoch);

  if (resume) {
    DENDRITE_CHECK(g.graphemes == data::Vocab::load(run_dir / kGraphemesFile) &&
                       g.phonemes == data::Vocab::load(run_dir / kPhonemesFile),
                   "--resume {}: the dictionary's vocabularies differ from the run's {} and {}", args.resume,
                   kGraphemesFile, kPhonemesFile);
  } else {
    fs::create_directories(run_dir);
    g.graphemes.save(run_dir / kGraphemesFile);
    g.phonemes.save(run_dir / kPhonemesFile);
  }
  out << fmt::format(
      "{} {}: {} parameters; {} training pairs, {} dev and {} test words ({} longer than {} letters left "
      "out); {} letters, {} phonemes; {} threads -> {}\n",
      resume ? "resuming" : "training", recipe.name, model->parameter_count(), pairs, g.data.dev.size(),
      g.data.test.size(), g.dropped, recipe.model.max_length, g.graphemes.size() - data::Vocab::kSpecials,
      g.phonemes.size() - data::Vocab::kSpecials, num_threads(), run_dir.string());
  out.flush();

  train::Seq2SeqTrainer trainer(*model, *optimizer, g.data,
                                {.epochs = recipe.train.epochs,
                                 .batch = recipe.train.batch,
                                 .eval_batch = recipe.train.eval_batch,
                                 .out_dir = run_dir,
                                 .log_every = recipe.train.log_every,
                                 .seed = static_cast<uint64_t>(recipe.train.seed),
                                 .clip_grad_norm = recipe.optim.clip_grad_norm,
                                 .label_smoothing = recipe.train.label_smoothing,
                                 .scheduler = schedule.get(),
                                 .beam = recipe.decode.beam,
                                 .length_penalty = recipe.decode.length_penalty,
                                 .stress_classes = stress_classes(g.phonemes),
                                 .config = to_toml(recipe),
                                 .config_file = kConfigFile,
                                 .name = recipe.name,
                                 .progress = &out,
                                 .progress_terminal = terminal,
                                 .handle_sigint = true});
  const train::Seq2SeqSummary s = resume ? trainer.resume() : trainer.fit();
  if (!s.completed) {
    out << fmt::format("stopped after {} steps; continue with: dendrite train --resume {}\n", s.steps,
                       run_dir.string());
    return 130;
  }
  out << fmt::format(
      "test WER {:.2f}% PER {:.2f}% (beam {}), greedy WER {:.2f}% PER {:.2f}%; dev WER {:.2f}% (best "
      "epoch {})\n",
      100 * s.test_beam.wer, 100 * s.test_beam.per, recipe.decode.beam, 100 * s.test_greedy.wer,
      100 * s.test_greedy.per, 100 * s.dev_greedy.wer, s.best_epoch);
  out << fmt::format("stress ignored: test WER {:.2f}% PER {:.2f}% (beam {}), greedy WER {:.2f}% PER {:.2f}%\n",
                     100 * s.test_beam.wer_no_stress, 100 * s.test_beam.per_no_stress, recipe.decode.beam,
                     100 * s.test_greedy.wer_no_stress, 100 * s.test_greedy.per_no_stress);
  out << fmt::format(
      "{} epochs, {} steps, {:.1f} s training ({:.0f} target tokens/s), {:.1f} s in all; run saved in {}\n", s.epochs,
      s.steps, s.train_seconds, s.train_tokens_per_sec, s.wall_seconds, run_dir.string());
  return s.completed ? 0 : 130;
}

int g2p_eval_command(const EvalArgs& args, std::ostream& out) {
  // Checked before the models and the dictionary load, so that a typo fails at once.
  DENDRITE_CHECK(!args.beam || *args.beam >= 1, "--beam must be >= 1, got {}", args.beam.value_or(0));
  DENDRITE_CHECK(!args.length_penalty || (std::isfinite(*args.length_penalty) && *args.length_penalty >= 0),
                 "--length-penalty must be a number >= 0, got {}", args.length_penalty.value_or(0));
  for (double w : args.rescore_weights)
    DENDRITE_CHECK(std::isfinite(w) && w >= 0, "--rescore-weight must be a number >= 0, got {}", w);
  DENDRITE_CHECK(args.rescore_weights.empty() || !args.rescore.empty(), "--rescore-weight: give --rescore RUN too");
  set_threads(args.threads);
  Pronouncer p = Pronouncer::load_ensemble(args.run_dir, args.ensemble, args.checkpoint);
  if (!args.rescore.empty()) p.add_rescorer(args.rescore, args.checkpoint);
  const std::vector<double> weights = args.rescore_weights.empty() ? std::vector<double>{1.0} : args.rescore_weights;
  if (args.batch) p.recipe.train.eval_batch = *args.batch;
  if (args.limit_test) p.recipe.data.limit_test = *args.limit_test;
  const G2PData g = load_g2p_data(p.recipe);
  DENDRITE_CHECK(g.graphemes == p.graphemes && g.phonemes == p.phonemes,
                 "{}: the dictionary's vocabularies differ from the run's {} and {} (another data.dir or version?)",
                 args.run_dir, kGraphemesFile, kPhonemesFile);
  const int64_t batch = p.recipe.train.eval_batch, beam = args.beam.value_or(p.recipe.decode.beam);
  const double alpha = args.length_penalty.value_or(p.recipe.decode.length_penalty);
  const auto& words = args.split == "dev" ? g.data.dev : g.data.test;
  const std::vector<int64_t> classes = stress_classes(p.phonemes);
  std::ofstream errors_file;
  if (!args.errors.empty()) {  // opened before the decoding, so that a bad path fails at once
    errors_file.open(args.errors);
    DENDRITE_CHECK(errors_file.good(), "--errors: cannot write {}", args.errors);
  }
  const int64_t beam_batch = std::max<int64_t>(1, batch / beam);
  const train::DecodeScores greedy = train::evaluate_decoding(*p.model, words, batch, 1, alpha, classes);
  // A right-to-left run is scored in its own direction (its references reversed, data.reverse_target);
  // what is listed or rescored reads first phoneme first.
  std::vector<train::SequenceItem> natural = words;
  if (p.recipe.data.reverse_target)
    for (auto& item : natural)
      for (auto& r : item.references) std::reverse(r.begin(), r.end());
  std::vector<std::vector<int64_t>> best;
  train::DecodeScores beamed;
  std::optional<RescoredEvaluation> rescoring;
  if (!p.rescorer) {
    beamed = train::evaluate_decoding(*p.model, words, beam_batch, beam, alpha, classes, &best);
    if (p.recipe.data.reverse_target)
      for (auto& b : best) std::reverse(b.begin(), b.end());
  } else {
    const nn::DecodeOptions options{.max_length = {1}, .beam = beam, .nbest = beam, .length_penalty = alpha};
    rescoring = evaluate_rescored(p, natural, beam_batch, batch, options, weights, classes);
    beamed = rescoring->beamed;
    best = rescoring->best;
  }
  out << fmt::format("{}: {} {} words\n", p.recipe.name, greedy.words, args.split);
  if (p.runs.size() > 1) out << fmt::format("ensemble of {} models: {}\n", p.runs.size(), fmt::join(p.runs, ", "));
  if (p.rescorer)
    out << fmt::format("rescored with {} ({}), each system's {} best joined\n", fmt::join(p.rescorer->runs, ", "),
                       p.rescorer->recipe.data.reverse_target ? "right to left" : "left to right", beam);
  out << fmt::format("greedy:  WER {:.2f}%  PER {:.2f}%  ({:.0f} words/s)\n", 100 * greedy.wer, 100 * greedy.per,
                     greedy.words_per_sec);
  out << fmt::format("beam {}:  WER {:.2f}%  PER {:.2f}%  ({:.0f} words/s, length penalty {})\n", beam,
                     100 * beamed.wer, 100 * beamed.per, beamed.words_per_sec, alpha);
  // The stress-free phoneme set most published CMUdict results use (seq_metrics.h).
  out << fmt::format("stress ignored, greedy:  WER {:.2f}%  PER {:.2f}%\n", 100 * greedy.wer_no_stress,
                     100 * greedy.per_no_stress);
  out << fmt::format("stress ignored, beam {}:  WER {:.2f}%  PER {:.2f}%\n", beam, 100 * beamed.wer_no_stress,
                     100 * beamed.per_no_stress);
  out << fmt::format("{0}_greedy_wer {1:.6f}  {0}_greedy_per {2:.6f}  {0}_beam_wer {3:.6f}  {0}_beam_per {4:.6f}\n",
                     args.split, greedy.wer, greedy.per, beamed.wer, beamed.per);
  out << fmt::format(
      "{0}_greedy_wer_no_stress {1:.6f}  {0}_greedy_per_no_stress {2:.6f}  {0}_beam_wer_no_stress {3:.6f}  "
      "{0}_beam_per_no_stress {4:.6f}\n",
      args.split, greedy.wer_no_stress, greedy.per_no_stress, beamed.wer_no_stress, beamed.per_no_stress);
  if (rescoring) print_rescored(out, *rescoring, args.split, beam);
  if (errors_file.is_open()) {
    const int64_t wrong = write_errors(errors_file, p, natural, best, classes);
    errors_file.close();
    DENDRITE_CHECK(!errors_file.fail(), "--errors: writing {} failed", args.errors);
    out << fmt::format("{} wrong words ({}beam {}) written to {}\n", wrong,
                       rescoring ? fmt::format("rescored with weight {}, ", weights.front()) : "", beam, args.errors);
  }
  return 0;
}

int g2p_predict_command(const PredictArgs& args, std::ostream& out, std::ostream& err) {
  DENDRITE_CHECK(!args.files.empty(), "predict: give at least one word");
  set_threads(args.threads);
  DENDRITE_CHECK(!args.rescore_weight || (std::isfinite(*args.rescore_weight) && *args.rescore_weight >= 0),
                 "--rescore-weight must be a number >= 0, got {}", args.rescore_weight.value_or(0));
  DENDRITE_CHECK(!args.rescore_weight || !args.rescore.empty(), "--rescore-weight: give --rescore RUN too");
  Pronouncer p = Pronouncer::load_ensemble(args.run_dir, args.ensemble, args.checkpoint);
  if (!args.rescore.empty()) p.add_rescorer(args.rescore, args.checkpoint);
  p.rescore_weight = args.rescore_weight.value_or(1.0);
  const int64_t nbest = args.nbest.value_or(p.recipe.decode.nbest);
  const int64_t beam = args.beam.value_or(std::max(p.recipe.decode.beam, nbest));
  DENDRITE_CHECK(beam >= 1, "--beam must be >= 1, got {}", beam);
  DENDRITE_CHECK(nbest >= 1 && nbest <= beam, "--nbest must be in [1, --beam = {}], got {}", beam, nbest);
  const auto results = p.pronounce(args.files, beam, nbest, &err);
  for (size_t i = 0; i < results.size(); ++i) {
    if (nbest == 1) {
      out << fmt::format("{}  {}\n", args.files[i], results[i].empty() ? "" : pronunciation(p, results[i][0]));
      continue;
    }
    for (size_t k = 0; k < results[i].size(); ++k)
      out << fmt::format("{}  {}  {:.4f}  {}\n", args.files[i], k + 1, results[i][k].score,
                         pronunciation(p, results[i][k]));
  }
  return 0;
}

}  // namespace dendrite::cli
