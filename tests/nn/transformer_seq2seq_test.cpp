// TransformerSeq2Seq: incremental decoding through the cached keys and values gives the teacher-
// forced logits step by step; padding changes nothing; select() reorders rows (beam search) exactly
// as decoding the reordered sources from scratch would; a tiny model learns a few pairs by heart.
#include "dendrite/nn/transformer_seq2seq.h"

#include <gtest/gtest.h>

#include <cmath>

#include "nn_test_util.h"

namespace dendrite::nn {
namespace {

using testing::error_of;
using testing::expect_near;

constexpr int64_t kVocab = 9, kBos = 1, kEos = 2;

TransformerSeq2SeqOptions tiny(const std::string& positions = "sinusoidal") {
  return {.source_vocab = kVocab,
          .target_vocab = kVocab,
          .d_model = 16,
          .heads = 2,
          .feedforward = 32,
          .encoder_layers = 2,
          .decoder_layers = 2,
          .dropout = 0.0,
          .positions = positions,
          .max_positions = 16};
}

Tensor ids(const std::vector<int64_t>& v, Shape shape) { return tensor<int64_t>(v, std::move(shape)); }

class TransformerSeq2SeqPositions : public ::testing::TestWithParam<std::string> {};

TEST_P(TransformerSeq2SeqPositions, IncrementalDecodingGivesTheTeacherForcedLogits) {
  manual_seed(21);
  TransformerSeq2Seq model(tiny(GetParam()));
  model.eval();
  // Row 1 is padded (length 3 of 5); the targets are arbitrary prefixes starting with BOS.
  const Tensor source = ids({4, 5, 6, 7, 8, 5, 6, 4, 0, 0}, {2, 5});
  const std::vector<int64_t> lengths = {5, 3};
  const Tensor target_in = ids({kBos, 4, 5, 6, kBos, 7, 7, 8}, {2, 4});
  const Tensor whole = log_softmax(model.forward_teacher(source, lengths, target_in), -1);
  auto decoder = model.start_decoding(source, lengths);
  for (int64_t t = 0; t < 4; ++t)
    expect_near(decoder->step(target_in.select(1, t).contiguous()), whole.select(1, t), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Positions, TransformerSeq2SeqPositions, ::testing::Values("sinusoidal", "learned"));

TEST(TransformerSeq2Seq, PaddingNeverChangesAResult) {
  manual_seed(22);
  TransformerSeq2Seq model(tiny());
  model.eval();
  const Tensor target_in = ids({kBos, 7, 8}, {1, 3});
  const Tensor alone = model.forward_teacher(ids({5, 6, 4}, {1, 3}), {3}, target_in);
  // The same word after a longer one, with two padding positions of arbitrary ids.
  const Tensor batch =
      model.forward_teacher(ids({4, 5, 6, 7, 8, 5, 6, 4, 3, 8}, {2, 5}), {5, 3}, ids({kBos, 4, 5, kBos, 7, 8}, {2, 3}));
  expect_near(batch.narrow(0, 1, 1), alone, 1e-4);
}

TEST(TransformerSeq2Seq, SelectReordersTheCachedRows) {
  manual_seed(23);
  TransformerSeq2Seq model(tiny());
  model.eval();
  const Tensor source = ids({4, 5, 6, 7, 8, 0, 6, 4, 4}, {3, 3});
  const std::vector<int64_t> lengths = {3, 2, 3};
  auto decoder = model.start_decoding(source, lengths);
  decoder->step(ids({kBos, kBos, kBos}, {3}));
  decoder->step(ids({4, 5, 6}, {3}));
  decoder->select({2, 0, 0});  // rows now continue sources 2, 0, 0 (a repeat, as beam search does)
  const Tensor got = decoder->step(ids({7, 8, 4}, {3}));

  // From scratch: the same histories, row by row.
  const std::vector<std::vector<int64_t>> history = {{kBos, 6, 7}, {kBos, 4, 8}, {kBos, 4, 4}};
  const std::vector<int64_t> from = {2, 0, 0};
  for (size_t r = 0; r < 3; ++r) {
    const int64_t s = from[r];
    auto fresh = model.start_decoding(source.narrow(0, s, 1).contiguous(), {lengths[static_cast<size_t>(s)]});
    Tensor last;
    for (int64_t token : history[r]) last = fresh->step(ids({token}, {1}));
    expect_near(got.narrow(0, static_cast<int64_t>(r), 1), last, 1e-4);
  }
}

// Adam (Kingma & Ba 2015) by hand: the nn tests do not link the optimisers.
class TinyAdam {
 public:
  explicit TinyAdam(std::vector<Tensor> params, double lr) : params_(std::move(params)), lr_(lr) {
    for (const Tensor& p : params_) {
      m_.push_back(zeros_like(p));
      v_.push_back(zeros_like(p));
    }
  }
  void step() {
    autograd::NoGradGuard no_grad;
    ++t_;
    const double c1 = 1 - std::pow(0.9, t_), c2 = 1 - std::pow(0.999, t_);
    for (size_t i = 0; i < params_.size(); ++i) {
      const Tensor g = params_[i].grad();
      if (!g.defined()) continue;
      copy_(m_[i], m_[i] * 0.9 + g * 0.1);
      copy_(v_[i], v_[i] * 0.999 + g * g * 0.001);
      add_(params_[i], (m_[i] / c1) / (sqrt(v_[i] / c2) + 1e-8), -lr_);
    }
  }

 private:
  std::vector<Tensor> params_, m_, v_;
  double lr_;
  int t_ = 0;
};

TEST(TransformerSeq2Seq, ATinyModelLearnsAFewPairsByHeart) {
  manual_seed(24);
  TransformerSeq2SeqOptions o = tiny();
  o.encoder_layers = o.decoder_layers = 1;
  TransformerSeq2Seq model(o);
  // Reversal: 4 5 6 -> 6 5 4, and so on; target_in = BOS y..., target_out = y... EOS.
  const Tensor source = ids({4, 5, 6, 7, 8, 4, 6, 6, 5, 8, 7, 5}, {4, 3});
  const std::vector<int64_t> lengths = {3, 3, 3, 3};
  const Tensor target_in = ids({kBos, 6, 5, 4, kBos, 4, 8, 7, kBos, 5, 6, 6, kBos, 5, 7, 8}, {4, 4});
  const Tensor target_out = ids({6, 5, 4, kEos, 4, 8, 7, kEos, 5, 6, 6, kEos, 5, 7, 8, kEos}, {16});
  TinyAdam adam(model.parameters(), 0.01);
  for (int step = 0; step < 80; ++step) {
    model.zero_grad();
    Tensor loss = cross_entropy(model.forward_teacher(source, lengths, target_in).reshape({16, kVocab}), target_out);
    loss.backward();
    adam.step();
  }
  model.eval();
  auto decoder = model.start_decoding(source, lengths);
  const auto hyps = greedy_decode(*decoder, 4, {.bos = kBos, .eos = kEos, .max_length = {6}});
  const std::vector<std::vector<int64_t>> want = {{6, 5, 4}, {4, 8, 7}, {5, 6, 6}, {5, 7, 8}};
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(hyps[i].tokens, want[i]) << "pair " << i;
  auto beam = model.start_decoding(source, lengths);
  const auto nbest = beam_search(*beam, 4, {.bos = kBos, .eos = kEos, .max_length = {6}, .beam = 3, .nbest = 2});
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(nbest[i][0].tokens, want[i]) << "pair " << i;
}

TEST(TransformerSeq2Seq, GradientsReachEveryParameter) {
  manual_seed(25);
  TransformerSeq2Seq model(tiny("learned"));
  sum(model.forward_teacher(ids({4, 5, 6, 7}, {2, 2}), {2, 1}, ids({kBos, 4, kBos, 5}, {2, 2}))).backward();
  for (const auto& [name, t] : model.named_parameters()) EXPECT_TRUE(t.grad().defined()) << name;
}

TEST(TransformerSeq2SeqErrors, BadOptionsAndInputs) {
  TransformerSeq2SeqOptions o = tiny();
  o.heads = 3;
  EXPECT_EQ(error_of([&] { TransformerSeq2Seq m(o); }),
            "TransformerSeq2Seq: d_model 16 must be a positive multiple of heads 3");
  o = tiny("rotary");
  EXPECT_EQ(error_of([&] { TransformerSeq2Seq m(o); }),
            "TransformerSeq2Seq: positions must be \"sinusoidal\" or \"learned\", got \"rotary\"");
  TransformerSeq2Seq model(tiny("learned"));
  EXPECT_NE(error_of([&] { model.forward(zeros({1, 2})); }).find("call forward_teacher"), std::string::npos);
  // A target longer than the learned table names the limit.
  EXPECT_NE(error_of([&] {
              model.forward_teacher(ids({4}, {1, 1}), {1}, zeros({1, 17}, DType::i64));
            }).find("exceed the maximum length 16"),
            std::string::npos);
}

}  // namespace
}  // namespace dendrite::nn
