// The reference backend: plain C++ loops over strided tensors, computing in double (or int64 for
// integer dtypes) and rounding once on store. Slow on purpose: it is the oracle that every other
// backend is compared against, and it must be obviously correct. One file per op family; each
// registers its kernels through the function declared here.
#pragma once

#include "dendrite/kernels/registry.h"

namespace dendrite::kernels::reference {

void register_elementwise(Registry& registry);  // copy, fill, unary, binary
void register_reduce(Registry& registry);       // reduce, argmax
void register_matmul(Registry& registry);
void register_conv(Registry& registry);         // conv2d forward/backward
void register_pool(Registry& registry);         // pool2d forward/backward
void register_softmax(Registry& registry);      // softmax, cross-entropy
void register_indexing(Registry& registry);     // index_select/add, gather, scatter_add
void register_normalization(Registry& registry);  // batch_norm stats/forward/backward
void register_lstm(Registry& registry);           // lstm_forward/backward, lstm_recurrence(_backward)
void register_gru(Registry& registry);            // gru_forward/backward
void register_attention(Registry& registry);      // additive_scores_forward/backward
void register_layer_norm(Registry& registry);     // layer_norm_forward/backward

// The scalar math every backend must agree with, in double precision.
double apply_unary(UnaryOp op, double x);
double apply_binary(BinaryOp op, double a, double b);

}  // namespace dendrite::kernels::reference
