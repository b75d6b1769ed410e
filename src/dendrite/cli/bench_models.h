// The networks of BENCHMARKS.md that W1 (training), W2 (training), W3 (training) and W5 (batch-1
// inference) run, built exactly as bench/torch_workloads.py builds them for PyTorch, with their
// FLOP counts (2 per multiply-add) for the roofline figures.
#pragma once

#include <memory>
#include <vector>

#include "dendrite/cli/bench_workloads.h"
#include "dendrite/nn/layers.h"
#include "dendrite/nn/linear.h"
#include "dendrite/nn/rnn.h"
#include "dendrite/nn/sequential.h"

namespace dendrite::cli {

// W1: Flatten, 784-512-512-10 with ReLU between the linear layers. Input [N, 1, 28, 28].
nn::Sequential bench_mlp();
// W2: conv(1->32, 3x3)+ReLU+maxpool2, conv(32->64, 3x3)+ReLU+maxpool2, flatten,
// fc(1600->128)+ReLU, fc(128->10). Input [N, 1, 28, 28].
nn::Sequential bench_cnn();

// FLOPs per example of a forward pass.
double mlp_forward_flops();
double cnn_forward_flops();
// FLOPs per example of a training step: the forward pass, every weight gradient (as much again)
// and every input gradient except the first layer's (the images need none). Optimiser and
// elementwise work are left out: they are not FLOP-bound. W1: ~3.21 MFLOP; W2: ~15.4 MFLOP.
double mlp_training_flops();
double cnn_training_flops();

// W3: torch_workloads.py's Seq2Seq. Embeddings 64 of a 30-token source and a 45-token target
// vocabulary, an LSTM 256 encoder, an LSTM 256 decoder started from the encoder's final state and
// fed the target shifted right (teacher forcing), a linear layer to the 45 classes. Time-major
// here (tokens [T, B] -> logits [T, B, 45]); the same computation as PyTorch's batch-first one.
class BenchSeq2Seq : public nn::Module {
 public:
  BenchSeq2Seq(int64_t source_vocab = 30, int64_t target_vocab = 45, int64_t embed = 64, int64_t hidden = 256);
  Tensor logits(const Tensor& source, const Tensor& target_in);
  Tensor forward(const Tensor& x) override;  // an Error: the model takes two sequences
  std::string name() const override { return "BenchSeq2Seq"; }

 private:
  std::shared_ptr<nn::Embedding> source_embed_, target_embed_;
  std::shared_ptr<nn::LSTM> encoder_, decoder_;
  std::shared_ptr<nn::Linear> out_;
};

// Per sequence of 12 source and 12 target tokens: 24 LSTM steps of 4 gates over 64 + 256 inputs
// and the output layer; a training step is 3x the forward (every GEMM has two gradient GEMMs).
double seq2seq_forward_flops();
double seq2seq_training_flops();

// W3 (bench_training.cpp); declared here beside its model (bench_workloads.h lists the others).
std::vector<BenchRecord> run_seq2seq_training(const BenchPlan& plan);

}  // namespace dendrite::cli
