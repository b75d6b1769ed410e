// LSTM and GRU layers: shapes and parameter names, a hand-unrolled reference, padding invariance
// (a sequence's results do not depend on the batch it is padded into), bidirectional and
// multi-layer wiring, batch_first, gradients, cells, and bad input.
#include <gtest/gtest.h>

#include "nn_test_util.h"

namespace dendrite::nn {
namespace {

using testing::error_of;
using testing::expect_near;
using testing::expect_error;
using testing::names_of;

TEST(LSTM, ShapesAndPyTorchParameterNames) {
  LSTM lstm(3, 5, {.num_layers = 2, .bidirectional = true});
  EXPECT_EQ(
      names_of(lstm.named_parameters()),
      (std::vector<std::string>{"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse",
                                "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse", "weight_ih_l1",
                                "weight_hh_l1", "bias_ih_l1", "bias_hh_l1", "weight_ih_l1_reverse",
                                "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"}));
  EXPECT_EQ(lstm.named_parameters()[8].second.shape(), (Shape{20, 10}));  // layer 1 reads both directions
  RnnOutput r = lstm.run(randn({7, 2, 3}));
  EXPECT_EQ(r.output.shape(), (Shape{7, 2, 10}));
  EXPECT_EQ(r.h_n.shape(), (Shape{4, 2, 5}));
  EXPECT_EQ(r.c_n.shape(), (Shape{4, 2, 5}));
}

TEST(LSTM, MatchesUnrolledCells) {
  manual_seed(1);
  LSTM lstm(3, 4);
  auto p = lstm.named_parameters();
  Tensor x = randn({5, 2, 3});
  RnnOutput r = lstm.run(x);
  LstmState s{zeros({2, 4}), zeros({2, 4})};
  for (int64_t t = 0; t < 5; ++t) {
    s = lstm_cell(x.select(0, t), s, p[0].second, p[1].second, p[2].second, p[3].second);
    expect_near(r.output.select(0, t), s.h);
  }
  expect_near(r.h_n.select(0, 0), s.h);
  expect_near(r.c_n.select(0, 0), s.c);
}

// Each sequence of a padded batch must give what it gives alone (outputs, zero padding, final state).
template <typename Layer>
void check_padding_invariance(Layer& layer, bool batch_first) {
  const std::vector<int64_t> lengths{4, 1, 6, 3};
  const int64_t steps = 6;
  Tensor x = batch_first ? randn({4, steps, 3}) : randn({steps, 4, 3});
  const int64_t batch_axis = batch_first ? 0 : 1, time_axis = batch_first ? 1 : 0;
  RnnOutput batched = layer.run(x, lengths);
  for (int64_t b = 0; b < 4; ++b) {
    const int64_t len = lengths[static_cast<size_t>(b)];
    Tensor alone_x = x.narrow(batch_axis, b, 1).narrow(time_axis, 0, len);
    RnnOutput alone = layer.run(alone_x);
    Tensor out = batched.output.narrow(batch_axis, b, 1);
    expect_near(out.narrow(time_axis, 0, len), alone.output);
    if (len < steps) {
      EXPECT_EQ(to_vector<float>(abs(out.narrow(time_axis, len, steps - len)).max())[0], 0.0f);
    }
    expect_near(batched.h_n.narrow(1, b, 1), alone.h_n);
    if (batched.c_n.defined()) expect_near(batched.c_n.narrow(1, b, 1), alone.c_n);
  }
}

TEST(LSTM, PaddingNeverChangesAResult) {
  manual_seed(2);
  LSTM lstm(3, 4, {.num_layers = 2, .bidirectional = true});
  check_padding_invariance(lstm, false);
  LSTM batch_first(3, 4, {.bidirectional = true, .batch_first = true});
  check_padding_invariance(batch_first, true);
}

TEST(GRU, PaddingNeverChangesAResult) {
  manual_seed(3);
  GRU gru(3, 5, {.num_layers = 2, .bidirectional = true, .batch_first = true});
  check_padding_invariance(gru, true);
}

TEST(LSTM, ReverseDirectionReadsTheSequenceBackwards) {
  manual_seed(4);
  LSTM bi(2, 3, {.bidirectional = true});
  Tensor x = randn({4, 1, 2});
  RnnOutput r = bi.run(x);
  // The backward half at t = 0 has read the whole sequence; built from the reverse weights alone.
  auto p = bi.named_parameters();
  LstmState s{zeros({1, 3}), zeros({1, 3})};
  for (int64_t t = 3; t >= 0; --t) s = lstm_cell(x.select(0, t), s, p[4].second, p[5].second, p[6].second, p[7].second);
  expect_near(r.output.select(0, 0).narrow(1, 3, 3), s.h);
  expect_near(r.h_n.select(0, 1), s.h);
}

TEST(GRU, MatchesUnrolledCellAndGradientsFlow) {
  manual_seed(5);
  GRU gru(2, 3);
  GRUCell cell(2, 3);
  auto p = gru.named_parameters();
  auto q = cell.named_parameters();
  for (size_t i = 0; i < p.size(); ++i) copy_(q[i].second.detach(), p[i].second.detach());
  Tensor x = randn({3, 2, 2});
  RnnOutput r = gru.run(x);
  Tensor h = zeros({2, 3});
  for (int64_t t = 0; t < 3; ++t) h = cell.step(x.select(0, t), h);
  expect_near(r.h_n.select(0, 0), h);
  sum(r.output).backward();
  for (const auto& [name, t] : gru.named_parameters()) EXPECT_TRUE(t.grad().defined()) << name;
}

TEST(LSTM, DropoutBetweenLayersOnlyInTraining) {
  manual_seed(6);
  LSTM lstm(2, 4, {.num_layers = 2, .dropout = 0.5});
  Tensor x = randn({3, 2, 2});
  lstm.eval();
  Tensor a = lstm.run(x).output, b = lstm.run(x).output;
  expect_near(a, b, 0.0);
  lstm.train();
  EXPECT_GT(to_vector<float>(abs(lstm.run(x).output - a).max())[0], 1e-4f);
}

TEST(LSTMCell, StepsAndZeroState) {
  LSTMCell cell(3, 2);
  LstmState s = cell.step(randn({4, 3}), cell.zero_state(4));
  EXPECT_EQ(s.h.shape(), (Shape{4, 2}));
  EXPECT_EQ(cell.forward(randn({4, 3})).shape(), (Shape{4, 2}));
  EXPECT_EQ(names_of(cell.named_parameters()),
            (std::vector<std::string>{"weight_ih", "weight_hh", "bias_ih", "bias_hh"}));
}

TEST(RnnErrors, BadInputs) {
  LSTM lstm(3, 4);
  EXPECT_EQ(error_of([&] {
              lstm.run(zeros({2, 3}));
            }),
            "LSTM(3 -> 4, layers=1): input must be [time, batch, features], got [2, 3]");
  EXPECT_EQ(error_of([&] {
              lstm.run(zeros({2, 1, 5}));
            }),
            "LSTM(3 -> 4, layers=1): input [2, 1, 5] has 5 features, expected 3");
  EXPECT_EQ(error_of([&] {
              lstm.run(zeros({2, 2, 3}), {1});
            }),
            "LSTM(3 -> 4, layers=1): 1 lengths given for a batch of 2");
  EXPECT_EQ(error_of([&] {
              lstm.run(zeros({2, 2, 3}), {1, 3});
            }),
            "LSTM(3 -> 4, layers=1): length 3 of sequence 1 is outside [0, 2]");
  EXPECT_EQ(error_of([&] {
              lstm.run(zeros({2, 2, 3}), {}, zeros({1, 3, 4}));
            }),
            "LSTM(3 -> 4, layers=1): initial state must be [1, 2, 4], got [1, 3, 4]");
  expect_error([] { LSTM(3, 0); }, {"LSTM: hidden_size must be positive, got 0"});
  expect_error([] { GRU(3, 2, {.dropout = 1.0}); }, {"GRU: dropout must be in [0, 1), got 1"});
  LSTMCell cell(3, 4);
  expect_error([&] { cell.step(zeros({2, 5}), cell.zero_state(2)); }, {"LSTMCell(3 -> 4): lstm_cell: w_ih must be"});
}

}  // namespace
}  // namespace dendrite::nn
