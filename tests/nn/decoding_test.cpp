// Greedy and beam search on a decoder whose next-token distribution is a fixed table of the prefix,
// so the right answers are known: beam search finds the more probable whole sequence that greedy
// decoding misses. Then a tiny Seq2Seq: teacher forcing is padding-invariant and decoding runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "nn_test_util.h"

namespace dendrite::nn {
namespace {

using testing::error_of;
using testing::expect_near;

constexpr int64_t kBos = 1, kEos = 2, kA = 3, kB = 4, kVocab = 5;

// p(next | prefix): [] -> A .6, B .4; [A] -> A .4, B .3, EOS .3; [B] -> EOS .9, A .05, B .05;
// anything longer -> EOS. Greedy: A A EOS (.24); best: B EOS (.36).
class TableDecoder : public StepDecoder {
 public:
  explicit TableDecoder(int64_t rows) : prefixes_(static_cast<size_t>(rows)) {}
  Tensor step(const Tensor& tokens) override {
    std::vector<int64_t> t = to_vector<int64_t>(tokens);
    EXPECT_EQ(t.size(), prefixes_.size());
    std::vector<double> lp;
    for (size_t r = 0; r < t.size(); ++r) {
      if (t[r] != kBos) prefixes_[r].push_back(t[r]);
      std::vector<double> p(kVocab, 1e-9);
      const auto& pre = prefixes_[r];
      if (pre.empty()) {
        p[kA] = 0.6, p[kB] = 0.4;
      } else if (pre.size() == 1 && pre[0] == kA) {
        p[kA] = 0.4, p[kB] = 0.3, p[kEos] = 0.3;
      } else if (pre.size() == 1 && pre[0] == kB) {
        p[kEos] = 0.9, p[kA] = 0.05, p[kB] = 0.05;
      } else {
        p[kEos] = 1.0;
      }
      for (double v : p) lp.push_back(std::log(v));
    }
    ++steps;
    return tensor<double>(lp, {static_cast<int64_t>(t.size()), kVocab});
  }
  void select(const std::vector<int64_t>& rows) override {
    std::vector<std::vector<int64_t>> next;
    for (int64_t r : rows) next.push_back(prefixes_[static_cast<size_t>(r)]);
    prefixes_ = next;
  }
  int steps = 0;

 private:
  std::vector<std::vector<int64_t>> prefixes_;
};

TEST(Decoding, GreedyTakesTheLocallyBestToken) {
  TableDecoder d(2);
  auto hyps = greedy_decode(d, 2, {.bos = kBos, .eos = kEos, .max_length = {10}});
  ASSERT_EQ(hyps.size(), 2u);
  for (const auto& h : hyps) {
    EXPECT_EQ(h.tokens, (std::vector<int64_t>{kA, kA}));
    EXPECT_NEAR(h.log_prob, std::log(0.24), 1e-6);
  }
  EXPECT_EQ(d.steps, 3);  // stops once every input has emitted EOS
}

TEST(Decoding, BeamFindsTheMoreProbableSequenceWithNBestScores) {
  TableDecoder d(3);
  auto nbest =
      beam_search(d, 3, {.bos = kBos, .eos = kEos, .max_length = {10}, .beam = 2, .nbest = 2, .length_penalty = 0.0});
  ASSERT_EQ(nbest.size(), 3u);
  for (const auto& list : nbest) {
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].tokens, (std::vector<int64_t>{kB}));
    EXPECT_NEAR(list[0].score, std::log(0.36), 1e-6);
    EXPECT_EQ(list[1].tokens, (std::vector<int64_t>{kA, kA}));
    EXPECT_NEAR(list[1].log_prob, std::log(0.24), 1e-6);
  }
}

TEST(Decoding, LengthPenaltyAndMaxLength) {
  EXPECT_DOUBLE_EQ(length_penalty(7, 1.0), 2.0);
  EXPECT_DOUBLE_EQ(length_penalty(7, 0.0), 1.0);
  TableDecoder d(1);
  // One token allowed: the live prefixes are finished as they are.
  auto nbest = beam_search(d, 1, {.bos = kBos, .eos = kEos, .max_length = {1}, .beam = 2, .nbest = 2});
  ASSERT_EQ(nbest[0].size(), 2u);
  EXPECT_EQ(nbest[0][0].tokens, (std::vector<int64_t>{kA}));
  EXPECT_EQ(nbest[0][1].tokens, (std::vector<int64_t>{kB}));
}

TEST(Decoding, BadOptions) {
  TableDecoder d(1);
  EXPECT_EQ(error_of([&] { beam_search(d, 1, {.beam = 2, .nbest = 3}); }),
            "beam_search: nbest must be in [1, beam = 2], got 3");
  EXPECT_EQ(error_of([&] {
              greedy_decode(d, 2, {.max_length = {5, 6, 7}});
            }),
            "greedy_decode: max_length must hold one value or one per input (2), got 3");
  EXPECT_EQ(error_of([&] { beam_search(d, 1, {.beam = 0}); }), "beam_search: beam must be >= 1, got 0");
}

Seq2SeqOptions tiny() {
  return {.source_vocab = 9, .target_vocab = 9, .embed = 8, .encoder_hidden = 8, .decoder_hidden = 12};
}

TEST(Seq2Seq, TeacherForcingIgnoresSourcePadding) {
  manual_seed(9);
  Seq2Seq model(tiny());
  model.eval();
  Tensor src = tensor<int64_t>({4, 5, 6, 0, 0, 7, 8, 4, 5, 6}, {2, 5});
  Tensor tgt = tensor<int64_t>({1, 5, 6, 1, 7, 7}, {2, 3});
  Tensor batched = model.forward_teacher(src, {3, 5}, tgt);
  Tensor alone = model.forward_teacher(src.narrow(0, 0, 1).narrow(1, 0, 3), {3}, tgt.narrow(0, 0, 1));
  std::vector<float> a = to_vector<float>(batched.narrow(0, 0, 1)), b = to_vector<float>(alone);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5);
  EXPECT_EQ(batched.shape(), (Shape{2, 3, 9}));
}

// Teacher forcing (all steps at once, training) and incremental decoding (one step at a time, with
// the decoder state kept) must be one function of the model.
TEST(Seq2Seq, IncrementalDecodingGivesTheTeacherForcedLogits) {
  for (auto [attention, layers] : {std::pair{"additive", 1}, {"dot", 1}, {"additive", 2}, {"dot", 3}}) {
    SCOPED_TRACE(fmt::format("{} attention, {} decoder layers", attention, layers));
    manual_seed(12);
    Seq2SeqOptions options = tiny();
    options.attention = attention;
    options.decoder_layers = layers;
    Seq2Seq model(options);
    model.eval();
    Tensor src = tensor<int64_t>({4, 5, 6, 0, 0, 7, 8, 4, 5, 6}, {2, 5});
    Tensor tgt = tensor<int64_t>({1, 5, 6, 3, 1, 7, 7, 8}, {2, 4});
    Tensor whole = log_softmax(model.forward_teacher(src, {3, 5}, tgt), -1);
    auto decoder = model.start_decoding(src, {3, 5});
    for (int64_t t = 0; t < 4; ++t) expect_near(decoder->step(tgt.select(1, t).contiguous()), whole.select(1, t), 1e-5);
  }
}

// select() keeps rows by index: a reorder with a repeat (beam search), the first rows (rescoring
// drops the candidates that ended; no copy) and a single row all continue those rows' histories.
class SelectTest : public ::testing::TestWithParam<int64_t> {};

TEST_P(SelectTest, ContinuesTheChosenRows) {
  manual_seed(13);
  Seq2SeqOptions options = tiny();
  options.decoder_layers = GetParam();  // every layer's state must follow its row
  Seq2Seq model(options);
  model.eval();
  const Tensor src = tensor<int64_t>({4, 5, 6, 7, 8, 0, 6, 4, 4}, {3, 3});
  const std::vector<int64_t> lengths = {3, 2, 3};
  // Row r's next log-probabilities after feeding `history` to source s alone.
  auto fresh = [&](int64_t s, const std::vector<int64_t>& history) {
    auto d = model.start_decoding(src.narrow(0, s, 1).contiguous(), {lengths[static_cast<size_t>(s)]});
    Tensor last;
    for (int64_t token : history) last = d->step(tensor<int64_t>({token}, {1}));
    return last;
  };
  for (const std::vector<int64_t>& rows : std::vector<std::vector<int64_t>>{{2, 0, 0}, {0, 1}, {1}}) {
    auto decoder = model.start_decoding(src, lengths);
    decoder->step(tensor<int64_t>({1, 1, 1}, {3}));
    decoder->step(tensor<int64_t>({4, 5, 6}, {3}));
    decoder->select(rows);
    std::vector<int64_t> next;
    for (size_t i = 0; i < rows.size(); ++i) next.push_back(6 + static_cast<int64_t>(i));
    const Tensor got = decoder->step(tensor<int64_t>(next, {static_cast<int64_t>(next.size())}));
    ASSERT_EQ(got.size(0), static_cast<int64_t>(rows.size()));
    for (size_t i = 0; i < rows.size(); ++i) {
      const int64_t s = rows[i];
      expect_near(got.narrow(0, static_cast<int64_t>(i), 1), fresh(s, {1, 4 + s, next[i]}), 1e-4);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seq2Seq, SelectTest, ::testing::Values(1, 2),
                         [](const auto& info) { return fmt::format("DecoderLayers{}", info.param); });

// The first decoder layer keeps its old name (older checkpoints load); further layers are
// decoder_l1, decoder_l2, ... and read the layer below (hidden -> hidden).
TEST(Seq2Seq, StackedDecoderParameters) {
  Seq2SeqOptions options = tiny();
  options.decoder_layers = 2;
  Seq2Seq model(options);
  std::map<std::string, Shape> shapes;
  for (const auto& [name, p] : model.named_parameters()) shapes[name] = p.shape();
  EXPECT_EQ(shapes.at("decoder.weight_ih"), (Shape{48, 8 + 12}));
  EXPECT_EQ(shapes.at("decoder_l1.weight_ih"), (Shape{48, 12}));
  EXPECT_EQ(shapes.at("decoder_l1.weight_hh"), (Shape{48, 12}));
  EXPECT_EQ(shapes.count("decoder_l2.weight_ih"), 0u);
  Seq2Seq one(tiny());
  EXPECT_EQ(model.named_parameters().size(), one.named_parameters().size() + 4);
  EXPECT_THAT(model.name(), ::testing::HasSubstr("decoder 2x12,"));
}

TEST(Seq2Seq, LearnsToReverseAndDecodes) {
  manual_seed(10);
  Seq2Seq model(tiny());
  Tensor src = tensor<int64_t>({4, 5, 6, 7, 8, 4, 5, 0, 6, 6, 8, 5}, {3, 4});
  Tensor tgt_in = tensor<int64_t>({1, 7, 6, 5, 1, 5, 4, 8, 1, 5, 8, 6}, {3, 4});
  Tensor tgt_out = tensor<int64_t>({7, 6, 5, 4, 5, 4, 8, 2, 5, 8, 6, 6}, {3, 4});
  // Each target is its source reversed (the second source is 8 4 5 with one pad).
  const std::vector<int64_t> lengths{4, 3, 4};
  double first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    Tensor loss = cross_entropy(model.forward_teacher(src, lengths, tgt_in).reshape({-1, 9}), tgt_out.reshape({-1}));
    for (const Tensor& p : model.parameters()) p.set_grad({});
    loss.backward();
    autograd::NoGradGuard no_grad;
    for (const Tensor& p : model.parameters()) add_(p, p.grad(), -0.5);
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
  }
  EXPECT_LT(last, first / 2);
  model.eval();
  auto decoder = model.start_decoding(src, lengths);
  auto greedy = greedy_decode(*decoder, 3, {.max_length = {8}});
  auto beam_decoder = model.start_decoding(src, lengths);
  auto beam = beam_search(*beam_decoder, 3, {.max_length = {8}, .beam = 3, .nbest = 2});
  ASSERT_EQ(greedy.size(), 3u);
  ASSERT_EQ(beam.size(), 3u);
  for (const auto& list : beam) {
    ASSERT_EQ(list.size(), 2u);
    EXPECT_GE(list[0].score, list[1].score);
  }
}

TEST(Seq2SeqErrors, BadInputs) {
  Seq2Seq model(tiny());
  EXPECT_EQ(error_of([&] { model.encode(zeros({3}, DType::i64), {3}); }),
            "Seq2Seq(9 -> 9, embed 8, encoder 2x1x8, decoder 12, additive attention): source must be [batch, length] "
            "token ids, got [3]");
  EXPECT_EQ(error_of([] { Seq2Seq(Seq2SeqOptions{.source_vocab = 3, .target_vocab = 3, .attention = "fancy"}); }),
            "Seq2Seq: attention must be \"additive\" or \"dot\", got \"fancy\"");
  EXPECT_EQ(error_of([] { Seq2Seq(Seq2SeqOptions{.source_vocab = 3, .target_vocab = 3, .decoder_layers = 0}); }),
            "Seq2Seq: decoder_layers must be >= 1, got 0");
  EXPECT_EQ(error_of([&] { model.forward(zeros({1})); }),
            "Seq2Seq(9 -> 9, embed 8, encoder 2x1x8, decoder 12, additive attention): call forward_teacher(source, "
            "lengths, target_in) to train or start_decoding() to decode");
}

}  // namespace
}  // namespace dendrite::nn
