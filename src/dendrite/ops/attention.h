// Attention score functions that are one kernel each way rather than a chain of elementwise ops.
//
//   additive_attention_scores: the scores of Bahdanau et al. (2015)'s additive attention,
//     scores[b, s] = sum_a v[a] tanh(keys[b, s, a] + query[b, a]),
//   for keys and a query already projected to the attention width A (nn::AdditiveAttention
//   projects the keys once per source and the query at every decoder step). Composed from
//   primitives it is a broadcast add, a tanh and a [B S, A] x [A] product, each writing or reading
//   a [B, S, A] temporary at every decoder step; here it is one pass forward (tanh kept for the
//   backward only when recording) and one backward pass giving all three gradients.
//
// Only f32 and f64 are supported.
#pragma once

#include "dendrite/ops/tensor.h"

namespace dendrite {

// keys [B, S, A], query [B, A], v [A] -> scores [B, S].
Tensor additive_attention_scores(const Tensor& keys, const Tensor& query, const Tensor& v);

}  // namespace dendrite
