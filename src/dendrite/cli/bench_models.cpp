// The benchmark networks and their FLOP counts.
#include "dendrite/cli/bench_models.h"

#include "dendrite/nn/activation.h"
#include "dendrite/nn/conv.h"
#include "dendrite/nn/layers.h"
#include "dendrite/nn/linear.h"
#include "dendrite/nn/pooling.h"
#include "dendrite/ops/creation.h"

namespace dendrite::cli {
namespace {

constexpr double kMlpLayers[][2] = {{784, 512}, {512, 512}, {512, 10}};

// A valid (unpadded) 3x3 convolution's multiply-adds per example.
constexpr double conv_macs(double in_channels, double out_channels, double out_side) {
  return in_channels * 9 * out_channels * out_side * out_side;
}
// 28 -> conv 26 -> pool 13 -> conv 11 -> pool 5: 64 x 5 x 5 = 1600 features.
constexpr double kConv1Macs = conv_macs(1, 32, 26);
constexpr double kConv2Macs = conv_macs(32, 64, 11);
constexpr double kFc1Macs = 1600.0 * 128;
constexpr double kFc2Macs = 128.0 * 10;

// W3: 12 source and 12 target tokens; torch_workloads.py's SEQ_FORWARD.
constexpr double kSeqSteps = 12, kSeqEmbed = 64, kSeqHidden = 256, kSeqTargetVocab = 45;

}  // namespace

nn::Sequential bench_mlp() {
  return nn::Sequential{nn::Flatten(),        nn::Linear(784, 512), nn::ReLU(),
                        nn::Linear(512, 512), nn::ReLU(),           nn::Linear(512, 10)};
}

nn::Sequential bench_cnn() {
  // clang-format off
  return nn::Sequential{nn::Conv2d(1, 32, 3), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Conv2d(32, 64, 3), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Flatten(), nn::Linear(1600, 128), nn::ReLU(), nn::Linear(128, 10)};
  // clang-format on
}

double mlp_forward_flops() {
  double macs = 0;
  for (const auto& layer : kMlpLayers) macs += layer[0] * layer[1];
  return 2 * macs;
}

double mlp_training_flops() {
  const double first_layer = 2 * kMlpLayers[0][0] * kMlpLayers[0][1];
  return 3 * mlp_forward_flops() - first_layer;
}

double cnn_forward_flops() { return 2 * (kConv1Macs + kConv2Macs + kFc1Macs + kFc2Macs); }

double cnn_training_flops() { return 3 * cnn_forward_flops() - 2 * kConv1Macs; }

BenchSeq2Seq::BenchSeq2Seq(int64_t source_vocab, int64_t target_vocab, int64_t embed, int64_t hidden) {
  // Registered in torch_workloads.py's order, so the parameters line up with PyTorch's state dict.
  source_embed_ = register_module("src_embed", std::make_shared<nn::Embedding>(source_vocab, embed));
  target_embed_ = register_module("tgt_embed", std::make_shared<nn::Embedding>(target_vocab, embed));
  encoder_ = register_module("encoder", std::make_shared<nn::LSTM>(embed, hidden));
  decoder_ = register_module("decoder", std::make_shared<nn::LSTM>(embed, hidden));
  out_ = register_module("out", std::make_shared<nn::Linear>(hidden, target_vocab));
}

Tensor BenchSeq2Seq::logits(const Tensor& source, const Tensor& target_in) {
  nn::RnnOutput encoded = encoder_->run((*source_embed_)(source));
  nn::RnnOutput decoded = decoder_->run((*target_embed_)(target_in), {}, encoded.h_n, encoded.c_n);
  return (*out_)(decoded.output);
}

Tensor BenchSeq2Seq::forward(const Tensor&) {
  fail("BenchSeq2Seq: call logits(source, target_in) with two [T, B] token tensors");
}

double seq2seq_forward_flops() {
  return 2 * kSeqSteps * 2 * 4 * kSeqHidden * (kSeqEmbed + kSeqHidden) + kSeqSteps * 2 * kSeqHidden * kSeqTargetVocab;
}

double seq2seq_training_flops() { return 3 * seq2seq_forward_flops(); }

}  // namespace dendrite::cli
