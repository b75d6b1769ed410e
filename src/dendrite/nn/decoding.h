// Decoding a sequence-to-sequence model: greedy and beam search over a StepDecoder, the interface a
// model offers for one batch of sources being decoded incrementally (the state of every row, e.g.
// an RNN decoder's (h, c) or a Transformer's cached keys and values, lives in the decoder; the
// prefix is never recomputed).
//
//   std::unique_ptr<StepDecoder> d = model.start_decoding(src, lengths);
//   auto nbest = beam_search(*d, lengths.size(), {.beam = 5, .nbest = 3, .max_length = {30}});
//
// Beam search (e.g. Sutskever et al. 2014; Wu et al. 2016 for the length penalty) keeps the `beam`
// best unfinished prefixes of each input by total log-probability. A prefix that emits EOS becomes
// a finished hypothesis scored by log p / lp(length), lp(L) = ((5 + L) / 6)^alpha (alpha = 0: raw
// log-probability). An input is done when it holds `beam` finished hypotheses and no live prefix
// scores better than the worst of them, or at its maximum length (live prefixes are then finished
// as they are). Inputs are decoded together as rows of one batch: beam * inputs rows.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "dendrite/ops/tensor.h"

namespace dendrite::nn {

class StepDecoder {
 public:
  virtual ~StepDecoder() = default;
  // tokens (i64 [N], one per live row) -> log-probabilities [N, V] of each row's next token.
  virtual Tensor step(const Tensor& tokens) = 0;
  // Keeps the rows at `rows` (in that order, repeats allowed): the new row i continues old row rows[i].
  virtual void select(const std::vector<int64_t>& rows) = 0;
};

struct Hypothesis {
  std::vector<int64_t> tokens;  // without BOS and EOS
  double log_prob = 0.0;        // total log-probability (EOS included when it was emitted)
  double score = 0.0;           // log_prob / lp(length), what the n-best list is sorted by
};

struct DecodeOptions {
  int64_t bos = 1;
  int64_t eos = 2;
  // Per input, the most tokens to emit (EOS included); one value for all inputs, or one per input.
  std::vector<int64_t> max_length = {50};
  int64_t beam = 5;
  int64_t nbest = 1;            // hypotheses returned per input (<= beam)
  double length_penalty = 1.0;  // alpha in lp(L) = ((5 + L) / 6)^alpha
};

// The most probable token at every step; one hypothesis per input.
std::vector<Hypothesis> greedy_decode(StepDecoder& decoder, int64_t inputs, const DecodeOptions& options);
// Up to options.nbest hypotheses per input, best first.
std::vector<std::vector<Hypothesis>> beam_search(StepDecoder& decoder, int64_t inputs, const DecodeOptions& options);

// ((5 + length) / 6)^alpha
double length_penalty(int64_t length, double alpha);

}  // namespace dendrite::nn
