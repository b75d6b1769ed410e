// nn: the building blocks of networks, on top of the differentiable ops.
//
//   Module        named parameters (trainable) and buffers (state), child modules, train/eval
//   layers        Linear, Conv2d, pooling, normalisation, Dropout, Embedding, activations
//   sequences     LSTM, GRU and their cells (rnn.h), attention (attention.h), Seq2Seq with
//                 greedy and beam-search decoding (seq2seq.h, decoding.h), pre-norm Transformer
//                 layers with cached incremental decoding (transformer.h), ensembles of
//                 sequence models decoding as one (seq2seq_ensemble.h)
//   Sequential    a chain of modules: Sequential{Linear(784, 512), ReLU(), Linear(512, 10)}
//   init          Kaiming / Xavier initialisers, filling parameters in place
//   losses        cross_entropy, mse_loss, binary_cross_entropy_with_logits
//
// Data moves through Module::forward as Tensors; gradients flow back through the ops' autograd
// records into each parameter's .grad(), which an optimiser (optim/) then applies.
#pragma once

#include "dendrite/nn/activation.h"
#include "dendrite/nn/attention.h"
#include "dendrite/nn/conv.h"
#include "dendrite/nn/decoding.h"
#include "dendrite/nn/frozen_parameters.h"
#include "dendrite/nn/init.h"
#include "dendrite/nn/layers.h"
#include "dendrite/nn/linear.h"
#include "dendrite/nn/losses.h"
#include "dendrite/nn/module.h"
#include "dendrite/nn/normalization.h"
#include "dendrite/nn/pooling.h"
#include "dendrite/nn/rnn.h"
#include "dendrite/nn/seq2seq.h"
#include "dendrite/nn/seq2seq_ensemble.h"
#include "dendrite/nn/seq2seq_model.h"
#include "dendrite/nn/sequential.h"
#include "dendrite/nn/size2.h"
#include "dendrite/nn/transformer.h"
#include "dendrite/nn/transformer_seq2seq.h"
