// Grapheme-to-phoneme runs on CMUdict, with two architectures behind nn::Seq2SeqModel:
//   g2p-lstm         nn::Seq2Seq: bidirectional LSTM encoder over the letters, attention LSTM
//                    decoder over the ARPAbet phonemes
//   g2p-transformer  nn::TransformerSeq2Seq: pre-norm Transformer encoder and decoder
//
//   dendrite train g2p-lstm                  -> runs/g2p-lstm/ (config.toml, graphemes.txt,
//                                              phonemes.txt, metrics.jsonl, summary.json, ...)
//   dendrite predict runs/g2p-lstm hello world --beam 5 --nbest 3
//   dendrite eval runs/g2p-lstm              -> test WER / PER, greedy and beam, also with stress
//                                              ignored (AH0 = AH1 = AH2)
//
// app.cpp sends train, eval and predict here when the recipe (or the run's config.toml) names a
// sequence architecture; everything else goes to the classification commands.
#pragma once

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "dendrite/cli/commands.h"
#include "dendrite/cli/recipe.h"
#include "dendrite/data/cmudict.h"
#include "dendrite/data/vocab.h"
#include "dendrite/nn/seq2seq.h"
#include "dendrite/nn/transformer_seq2seq.h"
#include "dendrite/train/rescoring.h"
#include "dendrite/train/seq2seq_trainer.h"

namespace dendrite::cli {

// The vocabularies a run keeps beside its checkpoints, one token per line in id order.
inline constexpr const char* kGraphemesFile = "graphemes.txt";
inline constexpr const char* kPhonemesFile = "phonemes.txt";

bool is_seq2seq_architecture(const std::string& architecture);

// Whether `dendrite train` with these arguments trains a sequence model.
bool train_args_are_seq2seq(const TrainArgs& args);
// Whether run_dir's config.toml names a sequence architecture (false when it has none).
bool run_is_seq2seq(const std::filesystem::path& run_dir);

int g2p_train_command(const TrainArgs& args, std::ostream& out, bool terminal);
int g2p_eval_command(const EvalArgs& args, std::ostream& out);
// Unknown characters are read as <unk> with a warning on `err`.
int g2p_predict_command(const PredictArgs& args, std::ostream& out, std::ostream& err);

// --- the pieces, for tests ---

// data.dir, or the npm package's dict.txt under the source tree's third_party/.
std::filesystem::path cmudict_path(const Recipe& recipe);

struct G2PData {
  data::Vocab graphemes, phonemes;  // built from the training split
  train::Seq2SeqData data;
  int64_t dropped = 0;  // words longer than model.max_length, left out of every split
};
// Reads and splits the dictionary (data/cmudict.h), cut to data.limit_train pairs and
// data.limit_test dev and test words.
G2PData load_g2p_data(const Recipe& recipe);

nn::Seq2SeqOptions seq2seq_options(const ModelRecipe& model, int64_t graphemes, int64_t phonemes);
nn::TransformerSeq2SeqOptions transformer_options(const ModelRecipe& model, int64_t graphemes, int64_t phonemes);
// The recipe's architecture, freshly initialised (from the default generator).
std::shared_ptr<nn::Seq2SeqModel> build_g2p_model(const ModelRecipe& model, int64_t graphemes, int64_t phonemes);
// train::stress_free_classes of the phoneme vocabulary.
std::vector<int64_t> stress_classes(const data::Vocab& phonemes);

// A trained run, ready to pronounce words.
struct Pronouncer {
  Recipe recipe;
  data::Vocab graphemes, phonemes;
  std::shared_ptr<nn::Seq2SeqModel> model;
  std::vector<std::string> runs;  // the run directories whose models `model` decodes with
  // A second system whose n-best joins this one's, the union reranked by log p_this + weight *
  // log p_rescorer (train/rescoring.h); null when not rescoring.
  std::shared_ptr<const Pronouncer> rescorer;
  double rescore_weight = 1.0;

  static Pronouncer load(const std::filesystem::path& run_dir, const std::string& checkpoint = "best");
  // run_dir's model decoding together with the models of `others` (their checkpoint of the same
  // name), as an nn::Seq2SeqEnsemble; run_dir's recipe sets the decoding options. Every run must
  // have run_dir's vocabularies (an error names the run and the file that differs); words may be
  // as long as the shortest model.max_length among them.
  static Pronouncer load_ensemble(const std::filesystem::path& run_dir, const std::vector<std::string>& others,
                                  const std::string& checkpoint = "best");
  // Loads `runs` (the first with the others as its ensemble) as the rescorer. They must have this
  // run's vocabularies (an error names the run and the file); words may be as long as the shorter
  // model.max_length of the two systems.
  void add_rescorer(const std::vector<std::string>& runs, const std::string& checkpoint = "best");
  // A word's letters as ids (upper-cased, as CMUdict spells); unknown letters go to `unknown`.
  // A word longer than model.max_length is an Error naming the limit.
  std::vector<int64_t> encode(const std::string& word, std::vector<std::string>* unknown) const;
  // The n best pronunciations of each word (an empty word gets one empty pronunciation).
  std::vector<std::vector<nn::Hypothesis>> pronounce(const std::vector<std::string>& words, int64_t beam, int64_t nbest,
                                                     std::ostream* warnings) const;
  // The same for encoded words: phoneme ids, first phoneme first whichever way the model writes.
  // With a rescorer, each system proposes its `beam` best and the n best of the reranked union
  // are returned.
  std::vector<std::vector<nn::Hypothesis>> pronounce_ids(const std::vector<std::vector<int64_t>>& sources, int64_t beam,
                                                         int64_t nbest) const;
  // This run's models alone (no rescorer), first phoneme first, `batch` words at a time. The
  // options are the caller's, so that a rescorer decodes as the run it serves.
  std::vector<std::vector<nn::Hypothesis>> decode_ids(const std::vector<std::vector<int64_t>>& sources, int64_t batch,
                                                      const nn::DecodeOptions& options) const;
  // With a rescorer: the two systems ({this, rescorer}), and each source's candidates (`own` and
  // `theirs` joined) scored by both, about `batch` candidates at a time.
  std::vector<train::RescoringSystem> rescoring_systems() const;
  std::vector<std::vector<train::ScoredCandidate>> score_joined(const std::vector<std::vector<int64_t>>& sources,
                                                                const std::vector<std::vector<nn::Hypothesis>>& own,
                                                                const std::vector<std::vector<nn::Hypothesis>>& theirs,
                                                                int64_t batch) const;
};

}  // namespace dendrite::cli
