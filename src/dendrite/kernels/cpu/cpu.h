// The cpu backend: oneDNN primitives (matmul, convolution, pooling, softmax), cached by shape, and
// vectorised OpenMP loops of our own for elementwise ops and reductions, threaded only above
// kParallelGrain. One file per op family; each registers what it implements and leaves the rest
// to the reference backend.
#pragma once

#include "dendrite/kernels/registry.h"

namespace dendrite::kernels::cpu {

void register_elementwise(Registry& registry);
void register_reduce(Registry& registry);
void register_matmul(Registry& registry);
void register_conv(Registry& registry);
void register_pool(Registry& registry);
void register_softmax(Registry& registry);
void register_cross_entropy(Registry& registry);  // cross_entropy_forward/backward (f32)
void register_indexing(Registry& registry);       // index_select (any dtype), index_add (f32, f64)
void register_normalization(Registry& registry);  // batch_norm stats/forward/backward (f32)
void register_lstm(Registry& registry);           // lstm_forward/backward (f32, f64)
void register_lstm_recurrence(Registry& registry);  // lstm_recurrence(_backward) (f32)
void register_gru(Registry& registry);            // gru_forward/backward (f32, f64)
void register_attention(Registry& registry);      // additive_scores_forward/backward (f32, f64)
void register_layer_norm(Registry& registry);     // layer_norm_forward/backward (f32, f64)

}  // namespace dendrite::kernels::cpu
