// Batches of variable-length token sequences for sequence-to-sequence training.
//
// bucket_batches groups examples of similar source length so that little of a batch is padding:
// the examples are shuffled (seeded by seed and epoch), stably sorted by source then target length,
// cut into batches, and the batches shuffled. make_batch pads one batch into tensors.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "dendrite/ops/tensor.h"

namespace dendrite::data {

struct SequencePair {
  std::vector<int64_t> source;
  std::vector<int64_t> target;  // without BOS and EOS
};

struct SequenceBatch {
  Tensor source;                        // i64 [B, S], padded with `pad`
  std::vector<int64_t> source_lengths;  // B
  Tensor target_in;                     // i64 [B, T]: BOS, y_1, ..., y_n, pad...
  Tensor target_out;                    // i64 [B, T]: y_1, ..., y_n, EOS, pad...
  Tensor target_mask;                   // f32 [B, T]: 1 where target_out is a real token (EOS included)
  int64_t target_tokens = 0;            // the number of ones in target_mask
};

struct SpecialIds {
  int64_t pad = 0, bos = 1, eos = 2;
};

SequenceBatch make_batch(std::span<const SequencePair> pairs, std::span<const int64_t> indices, SpecialIds ids = {});

// Indices into `pairs`, batch by batch (the last batch of a length group may be smaller).
std::vector<std::vector<int64_t>> bucket_batches(std::span<const SequencePair> pairs, int64_t batch, bool shuffle,
                                                 uint64_t seed, int64_t epoch);

}  // namespace dendrite::data
