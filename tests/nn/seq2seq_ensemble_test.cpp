// Seq2SeqEnsemble: the mixture is the mean of the members' probabilities, at every decoding step
// (also after select() reorders rows) and under teacher forcing; one member is that model exactly,
// a model with itself decodes as the model alone; mismatched members fail with both shapes named.
#include <gtest/gtest.h>

#include <cmath>

#include "nn_test_util.h"

namespace dendrite::nn {
namespace {

using testing::error_of;
using testing::expect_near;

std::shared_ptr<Seq2Seq> tiny(uint64_t seed, int64_t target_vocab = 9) {
  manual_seed(seed);
  auto model = std::make_shared<Seq2Seq>(Seq2SeqOptions{
      .source_vocab = 9, .target_vocab = target_vocab, .embed = 8, .encoder_hidden = 8, .decoder_hidden = 12});
  model->eval();
  return model;
}

// log((exp a + exp b) / 2), element by element, in double.
Tensor mixture(const Tensor& a, const Tensor& b) {
  std::vector<double> x = to_vector<double>(a), y = to_vector<double>(b), out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = std::log((std::exp(x[i]) + std::exp(y[i])) / 2);
  return tensor<double>(out, a.shape());
}

const Tensor kSource = tensor<int64_t>({4, 5, 6, 0, 7, 8, 4, 5}, {2, 4});
const std::vector<int64_t> kLengths{3, 4};

TEST(Seq2SeqEnsemble, MeanOfProbabilities) {
  const Tensor a = log(tensor<float>({0.5f, 0.25f, 0.25f}, {1, 3}));
  const Tensor b = log(tensor<float>({0.1f, 0.1f, 0.8f}, {1, 3}));
  expect_near(mean_of_probabilities({a, b}), log(tensor<float>({0.3f, 0.175f, 0.525f}, {1, 3})));
  // Far below exp's range the largest term is factored out: the result is still exact.
  const Tensor low = tensor<float>({-1000.0f, -1001.0f}, {2});
  expect_near(mean_of_probabilities({low, low}), low, 1e-3);
  expect_near(mean_of_probabilities({a}), a, 0);
  EXPECT_EQ(error_of([&] {
              mean_of_probabilities({a, low});
            }),
            "ensemble: member 1 gives log-probabilities of shape [2] but member 0 gives [1, 3] (do the models share "
            "one target vocabulary?)");
}

TEST(Seq2SeqEnsemble, OneMemberDecodesAsTheModel) {
  auto model = tiny(1);
  Seq2SeqEnsemble one({model});
  auto alone = model->start_decoding(kSource, kLengths);
  auto ensembled = one.start_decoding(kSource, kLengths);
  const Tensor bos = tensor<int64_t>({1, 1}, {2});
  expect_near(ensembled->step(bos), alone->step(bos), 0);
}

TEST(Seq2SeqEnsemble, EveryStepIsTheMixtureOfTheMembers) {
  auto a = tiny(1), b = tiny(2);
  Seq2SeqEnsemble both({a, b});
  EXPECT_EQ(both.size(), 2u);
  auto da = a->start_decoding(kSource, kLengths), db = b->start_decoding(kSource, kLengths);
  auto d = both.start_decoding(kSource, kLengths);
  const Tensor bos = tensor<int64_t>({1, 1}, {2});
  expect_near(d->step(bos), mixture(da->step(bos), db->step(bos)));
  // Three rows continuing rows 1, 0, 0: every member follows.
  const std::vector<int64_t> rows{1, 0, 0};
  d->select(rows);
  da->select(rows);
  db->select(rows);
  const Tensor next = tensor<int64_t>({5, 6, 7}, {3});
  expect_near(d->step(next), mixture(da->step(next), db->step(next)));

  const Tensor target_in = tensor<int64_t>({1, 5, 6, 1, 7, 7}, {2, 3});
  expect_near(both.forward_teacher(kSource, kLengths, target_in),
              mixture(log_softmax(a->forward_teacher(kSource, kLengths, target_in), -1),
                      log_softmax(b->forward_teacher(kSource, kLengths, target_in), -1)));
}

TEST(Seq2SeqEnsemble, AModelWithItselfFindsTheSameHypotheses) {
  auto model = tiny(3);
  Seq2SeqEnsemble twice({model, model});
  const DecodeOptions options{.max_length = {8}, .beam = 3, .nbest = 2};
  auto alone = model->start_decoding(kSource, kLengths);
  auto doubled = twice.start_decoding(kSource, kLengths);
  const auto expected = beam_search(*alone, 2, options);
  const auto got = beam_search(*doubled, 2, options);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].size(), expected[i].size());
    for (size_t k = 0; k < got[i].size(); ++k) {
      EXPECT_EQ(got[i][k].tokens, expected[i][k].tokens);
      EXPECT_NEAR(got[i][k].score, expected[i][k].score, 1e-4);
    }
  }
  EXPECT_EQ(twice.parameter_count(), model->parameter_count());  // one model, shared
}

TEST(Seq2SeqEnsemble, BadMembers) {
  EXPECT_EQ(error_of([] { Seq2SeqEnsemble({}); }), "Seq2SeqEnsemble: needs at least one model");
  EXPECT_EQ(error_of([] { mean_of_probabilities({}); }), "mean_of_probabilities: no log-probabilities given");
  EXPECT_EQ(error_of([] { Seq2SeqEnsemble({tiny(1), nullptr}); }), "Seq2SeqEnsemble: model 1 is null");
  Seq2SeqEnsemble mismatched({tiny(1), tiny(2, 7)});
  auto d = mismatched.start_decoding(kSource, kLengths);
  EXPECT_EQ(error_of([&] {
              d->step(tensor<int64_t>({1, 1}, {2}));
            }),
            "ensemble: member 1 gives log-probabilities of shape [2, 7] but member 0 gives [2, 9] (do the models "
            "share one target vocabulary?)");
}

}  // namespace
}  // namespace dendrite::nn
