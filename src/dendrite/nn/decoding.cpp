#include "dendrite/nn/decoding.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dendrite/autograd/autograd.h"
#include "dendrite/ops/creation.h"

namespace dendrite::nn {
namespace {

constexpr double kDead = -std::numeric_limits<double>::infinity();

void check_options(const char* who, int64_t inputs, const DecodeOptions& o) {
  DENDRITE_CHECK(inputs >= 0, "{}: inputs must be >= 0, got {}", who, inputs);
  DENDRITE_CHECK(o.max_length.size() == 1 || static_cast<int64_t>(o.max_length.size()) == inputs,
                 "{}: max_length must hold one value or one per input ({}), got {}", who, inputs, o.max_length.size());
  for (int64_t m : o.max_length) DENDRITE_CHECK(m >= 1, "{}: max_length must be >= 1, got {}", who, m);
  DENDRITE_CHECK(o.beam >= 1, "{}: beam must be >= 1, got {}", who, o.beam);
  DENDRITE_CHECK(o.nbest >= 1 && o.nbest <= o.beam, "{}: nbest must be in [1, beam = {}], got {}", who, o.beam,
                 o.nbest);
  DENDRITE_CHECK(o.length_penalty >= 0, "{}: length_penalty must be >= 0, got {}", who, o.length_penalty);
}

int64_t max_length_of(const DecodeOptions& o, int64_t input) {
  return o.max_length.size() == 1 ? o.max_length[0] : o.max_length[static_cast<size_t>(input)];
}

int64_t longest(const DecodeOptions& o) { return *std::max_element(o.max_length.begin(), o.max_length.end()); }

// One step of the decoder: the log-probabilities of every row, on the host.
std::vector<double> step_log_probs(StepDecoder& decoder, const std::vector<int64_t>& tokens, int64_t& vocab) {
  Tensor lp = decoder.step(tensor<int64_t>(tokens));
  DENDRITE_CHECK(lp.dim() == 2 && lp.size(0) == static_cast<int64_t>(tokens.size()),
                 "decode: the decoder returned {} for {} rows; expected [{}, vocabulary]", to_string(lp.shape()),
                 tokens.size(), tokens.size());
  vocab = lp.size(1);
  return to_vector<double>(lp);
}

struct Live {
  std::vector<int64_t> tokens;
  double log_prob = kDead;
};

struct Candidate {
  double log_prob;
  int64_t parent;  // beam slot
  int64_t token;
};

}  // namespace

double length_penalty(int64_t length, double alpha) {
  return alpha == 0.0 ? 1.0 : std::pow((5.0 + static_cast<double>(length)) / 6.0, alpha);
}

std::vector<Hypothesis> greedy_decode(StepDecoder& decoder, int64_t inputs, const DecodeOptions& o) {
  check_options("greedy_decode", inputs, o);
  autograd::NoGradGuard no_grad;
  std::vector<Hypothesis> hyps(static_cast<size_t>(inputs));
  std::vector<bool> done(static_cast<size_t>(inputs), false);
  std::vector<int64_t> tokens(static_cast<size_t>(inputs), o.bos);
  std::vector<int64_t> emitted(static_cast<size_t>(inputs), 0);
  for (int64_t step = 0; step < longest(o) && inputs > 0; ++step) {
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
    int64_t vocab = 0;
    const std::vector<double> lp = step_log_probs(decoder, tokens, vocab);
    for (int64_t i = 0; i < inputs; ++i) {
      const auto ui = static_cast<size_t>(i);
      if (done[ui]) continue;
      const double* row = lp.data() + ui * static_cast<size_t>(vocab);
      const auto best = static_cast<int64_t>(std::max_element(row, row + vocab) - row);
      hyps[ui].log_prob += row[best];
      ++emitted[ui];
      if (best == o.eos) {
        done[ui] = true;
      } else {
        hyps[ui].tokens.push_back(best);
        if (emitted[ui] >= max_length_of(o, i)) done[ui] = true;
      }
      tokens[ui] = best;
    }
  }
  for (size_t i = 0; i < hyps.size(); ++i)
    hyps[i].score = hyps[i].log_prob / length_penalty(emitted[i], o.length_penalty);
  return hyps;
}

std::vector<std::vector<Hypothesis>> beam_search(StepDecoder& decoder, int64_t inputs, const DecodeOptions& o) {
  check_options("beam_search", inputs, o);
  autograd::NoGradGuard no_grad;
  const int64_t k = o.beam;
  const auto uk = static_cast<size_t>(k);
  std::vector<std::vector<Live>> live(static_cast<size_t>(inputs), std::vector<Live>(uk));
  std::vector<std::vector<Hypothesis>> finished(static_cast<size_t>(inputs));
  std::vector<bool> done(static_cast<size_t>(inputs), false);
  {
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < inputs; ++i) {
      live[static_cast<size_t>(i)][0].log_prob = 0.0;  // the other slots start dead: no duplicate beams
      for (int64_t j = 0; j < k; ++j) rows.push_back(i);
    }
    decoder.select(rows);
  }
  auto by_score = [](const Hypothesis& a, const Hypothesis& b) { return a.score > b.score; };
  for (int64_t step = 0; step < longest(o) && inputs > 0; ++step) {
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
    std::vector<int64_t> tokens;
    for (const auto& beams : live)
      for (const Live& l : beams) tokens.push_back(l.tokens.empty() ? (step == 0 ? o.bos : o.eos) : l.tokens.back());
    if (step == 0) std::fill(tokens.begin(), tokens.end(), o.bos);
    int64_t vocab = 0;
    const std::vector<double> lp = step_log_probs(decoder, tokens, vocab);
    std::vector<int64_t> parents(static_cast<size_t>(inputs) * uk);
    const int64_t length = step + 1;  // tokens emitted so far, this one included
    for (int64_t i = 0; i < inputs; ++i) {
      const auto ui = static_cast<size_t>(i);
      const size_t base = ui * uk;
      for (size_t j = 0; j < uk; ++j) parents[base + j] = static_cast<int64_t>(base + j);
      if (done[ui]) continue;
      std::vector<Candidate> cands;
      for (size_t j = 0; j < uk; ++j) {
        if (live[ui][j].log_prob == kDead) continue;
        const double* row = lp.data() + (base + j) * static_cast<size_t>(vocab);
        for (int64_t v = 0; v < vocab; ++v)
          cands.push_back({live[ui][j].log_prob + row[v], static_cast<int64_t>(j), v});
      }
      const size_t keep = std::min(cands.size(), 2 * uk);
      std::partial_sort(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(keep), cands.end(),
                        [](const Candidate& a, const Candidate& b) { return a.log_prob > b.log_prob; });
      std::vector<Live> next;
      for (size_t c = 0; c < keep && next.size() < uk; ++c) {
        const Candidate& cand = cands[c];
        const Live& parent = live[ui][static_cast<size_t>(cand.parent)];
        if (cand.token == o.eos) {
          finished[ui].push_back(
              {parent.tokens, cand.log_prob, cand.log_prob / length_penalty(length, o.length_penalty)});
          continue;
        }
        parents[base + next.size()] = static_cast<int64_t>(base) + cand.parent;
        Live l{parent.tokens, cand.log_prob};
        l.tokens.push_back(cand.token);
        next.push_back(std::move(l));
      }
      if (length >= max_length_of(o, i)) {
        for (const Live& l : next)
          finished[ui].push_back({l.tokens, l.log_prob, l.log_prob / length_penalty(length, o.length_penalty)});
        done[ui] = true;
      } else if (static_cast<int64_t>(finished[ui].size()) >= k) {
        std::sort(finished[ui].begin(), finished[ui].end(), by_score);
        const double worst = finished[ui][uk - 1].score;
        const double best_live = next.empty() ? kDead : next[0].log_prob / length_penalty(length, o.length_penalty);
        if (best_live <= worst) done[ui] = true;
      }
      next.resize(uk);  // missing slots are dead (log_prob -inf)
      live[ui] = std::move(next);
    }
    decoder.select(parents);
  }
  for (auto& f : finished) {
    std::stable_sort(f.begin(), f.end(), by_score);
    if (static_cast<int64_t>(f.size()) > o.nbest) f.resize(static_cast<size_t>(o.nbest));
  }
  return finished;
}

}  // namespace dendrite::nn
