// W7: G2P decoding throughput of a trained run (BENCHMARKS.md: beam 5, batch 64, words/s). The
// words are the run's own test split, decoded as `dendrite eval` decodes them (sorted by length,
// batches of 64 words, each word's 5 beams as rows of one batch), so the figure is what a user of
// the run gets. Greedy decoding at the same batch is reported beside it, with the WER of both, so a
// faster decoder that decodes worse shows at once. With --g2p-rescore RUN2, W7/rescored times what
// `dendrite eval RUN --rescore RUN2` does: both systems' beam searches and the scoring of their
// joined 5-best by both (train/rescoring.h), at weight 1 (the weight does not change the work).
//
// Unlike W1-W5 this needs trained weights: with random ones beam search rarely ends a hypothesis
// and every word runs to the length limit. The run comes from --g2p-run, else runs/g2p-lstm; when
// neither exists and W7 was not asked for by name, it is skipped with a note.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "dendrite/cli/bench_workloads.h"
#include "dendrite/cli/g2p.h"
#include "dendrite/core/error.h"

namespace dendrite::cli {
namespace {

constexpr int64_t kBatch = 64, kBeam = 5;

BenchRecord record(const std::string& key, const std::string& name, const train::DecodeScores& s, int64_t beam,
                   const BenchPlan& plan) {
  BenchRecord r;
  r.key = key;
  r.workload = "W7";
  r.name = name;
  r.metric = "words_per_s";
  r.unit = "words/s";
  r.value = s.words_per_sec;
  r.threads = plan.threads;
  r.add("batch", kBatch);
  r.add("beam", static_cast<double>(beam));
  r.add("words", static_cast<double>(s.words));
  r.add("wer", s.wer);
  r.add("per", s.per);
  return r;
}

}  // namespace

std::vector<BenchRecord> run_g2p_decoding(const BenchPlan& plan) {
  const std::filesystem::path run_dir = plan.g2p_run.empty() ? std::filesystem::path(kDefaultG2pRun) : plan.g2p_run;
  if (plan.g2p_run.empty() && !plan.g2p_required && !std::filesystem::exists(run_dir)) {
    std::cerr << fmt::format(
        "W7 skipped: no trained G2P run at {} (`dendrite train g2p-lstm` makes one; --g2p-run DIR names another)\n",
        run_dir.string());
    return {};
  }
  DENDRITE_CHECK(std::filesystem::is_directory(run_dir),
                 "bench: W7 decodes with a trained G2P run, and {} is not a directory (`dendrite train g2p-lstm` "
                 "makes one; --g2p-run DIR names another)",
                 run_dir.string());
  Pronouncer p = Pronouncer::load(run_dir);
  const G2PData g = load_g2p_data(p.recipe);
  DENDRITE_CHECK(g.graphemes == p.graphemes && g.phonemes == p.phonemes,
                 "bench: W7: the dictionary's vocabularies differ from those of the run in {}", run_dir.string());
  std::vector<train::SequenceItem> words = g.data.test;
  if (plan.quick) words.resize(std::min<size_t>(words.size(), 2 * kBatch));
  DENDRITE_CHECK(!words.empty(), "bench: W7: the run's test split is empty");

  const double alpha = p.recipe.decode.length_penalty;
  // One untimed batch: first-call costs (oneDNN primitive creation, allocator growth) stay out.
  const std::vector<train::SequenceItem> warmup(words.begin(),
                                                words.begin() + std::min<std::ptrdiff_t>(kBatch, words.size()));
  train::evaluate_decoding(*p.model, warmup, kBatch, kBeam, alpha);
  const train::DecodeScores beam = train::evaluate_decoding(*p.model, words, kBatch, kBeam, alpha);
  const train::DecodeScores greedy = train::evaluate_decoding(*p.model, words, kBatch, 1, alpha);

  const std::string model = p.recipe.model.architecture;
  std::vector<BenchRecord> records;
  records.push_back(record("W7", fmt::format("G2P decoding, beam 5, {}", model), beam, kBeam, plan));
  records.push_back(record("W7/greedy", fmt::format("G2P decoding, greedy, {}", model), greedy, 1, plan));
  if (!plan.g2p_rescore.empty()) {
    p.add_rescorer({plan.g2p_rescore.string()});
    p.recipe.train.eval_batch = kBatch;
    // A right-to-left run's references are stored reversed; the rescored output reads first phoneme first.
    std::vector<train::SequenceItem> natural = words;
    if (p.recipe.data.reverse_target)
      for (auto& item : natural)
        for (auto& r : item.references) std::reverse(r.begin(), r.end());
    std::vector<std::vector<int64_t>> sources;
    for (const auto& item : words) sources.push_back(item.source);
    p.pronounce_ids({sources.begin(), sources.begin() + static_cast<std::ptrdiff_t>(warmup.size())}, kBeam, 1);
    const auto start = std::chrono::steady_clock::now();
    const auto hypotheses = p.pronounce_ids(sources, kBeam, 1);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    train::DecodeScores rescored = train::score_hypotheses(natural, train::best_tokens(hypotheses));
    rescored.words_per_sec = seconds > 0 ? static_cast<double>(words.size()) / seconds : 0.0;
    records.push_back(record("W7/rescored", fmt::format("G2P decoding, beam 5, rescored by a second {}", model),
                             rescored, kBeam, plan));
    records.back().add("rescore_weight", 1.0);
  }
  records.back().add("max_rss_mb", max_rss_mb());
  return records;
}

}  // namespace dendrite::cli
