// nn::LSTM runs every layer and direction through the whole-layer op (ops/lstm_layer.h): its
// outputs and parameter gradients must equal those of the same network unrolled from lstm_cell,
// with padding, both directions and two layers, in f64.
#include <gtest/gtest.h>

#include "dendrite/ops/lstm_layer.h"
#include "nn_test_util.h"

namespace dendrite::nn {
namespace {

void expect_near(const Tensor& a, const Tensor& b, const std::string& what, double tol = 1e-11) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  std::vector<double> x = to_vector<double>(a), y = to_vector<double>(b);
  for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(x[i], y[i], tol) << what << ", element " << i;
}

struct Direction {
  Tensor output;  // [T, B, H]
  LstmState last;
};

// One direction unrolled from cells: rows whose sequence has ended keep their state, output zero.
Direction unrolled(const Tensor& x, const std::vector<Tensor>& w, const std::vector<int64_t>& lengths, bool reverse,
                   int64_t hidden) {
  const int64_t steps = x.size(0), batch = x.size(1);
  LstmState s{zeros({batch, hidden}, x.dtype()), zeros({batch, hidden}, x.dtype())};
  std::vector<Tensor> outs(static_cast<size_t>(steps));
  for (int64_t i = 0; i < steps; ++i) {
    const int64_t t = reverse ? steps - 1 - i : i;
    std::vector<double> k;
    for (int64_t len : lengths) k.push_back(t < len ? 1.0 : 0.0);
    const Tensor keep = tensor<double>(k, {batch, 1}), drop = 1.0 - keep;
    LstmState n = lstm_cell(x.select(0, t), s, w[0], w[1], w[2], w[3]);
    outs[static_cast<size_t>(t)] = n.h * keep;
    s = {n.h * keep + s.h * drop, n.c * keep + s.c * drop};
  }
  return {stack(outs, 0), s};
}

TEST(LSTM, GradientsMatchUnrolledCells) {
  manual_seed(21);
  const int64_t hidden = 3;
  LSTM lstm(2, hidden, {.num_layers = 2, .bidirectional = true});
  lstm.to(DType::f64);
  const std::vector<int64_t> lengths{5, 2, 4};
  Tensor x = randn({5, 3, 2}, DType::f64).requires_grad_();
  Tensor wy = randn({5, 3, 2 * hidden}, DType::f64), wh = randn({4, 3, hidden}, DType::f64);
  Tensor wc = randn({4, 3, hidden}, DType::f64);
  auto params = lstm.named_parameters();
  auto grads = [&] {
    std::vector<Tensor> g{x.grad()};
    x.set_grad({});
    for (auto& [name, p] : params) {
      g.push_back(p.grad());
      p.set_grad({});
    }
    return g;
  };

  RnnOutput r = lstm.run(x, lengths);
  (sum(r.output * wy) + sum(r.h_n * wh) + sum(r.c_n * wc)).backward();
  std::vector<Tensor> got = grads();

  std::vector<Tensor> hs, cs;
  Tensor input = x, output;
  for (int64_t layer = 0; layer < 2; ++layer) {
    std::vector<Tensor> outs;
    for (int64_t dir = 0; dir < 2; ++dir) {
      std::vector<Tensor> w;
      for (size_t i = 0; i < 4; ++i) w.push_back(params[static_cast<size_t>((layer * 2 + dir) * 4) + i].second);
      Direction d = unrolled(input, w, lengths, dir == 1, hidden);
      outs.push_back(d.output);
      hs.push_back(d.last.h);
      cs.push_back(d.last.c);
    }
    output = concat(outs, 2);
    input = output;
  }
  expect_near(r.output, output, "output");
  expect_near(r.h_n, stack(hs, 0), "h_n");
  expect_near(r.c_n, stack(cs, 0), "c_n");
  (sum(output * wy) + sum(stack(hs, 0) * wh) + sum(stack(cs, 0) * wc)).backward();
  std::vector<Tensor> want = grads();
  ASSERT_EQ(got.size(), want.size());
  expect_near(got[0], want[0], "gradient of x");
  for (size_t i = 1; i < got.size(); ++i) expect_near(got[i], want[i], "gradient of " + params[i - 1].first);
}

// nn::LSTM runs on the op itself (nn/rnn.cpp), so the two agree bit for bit.
TEST(LSTM, BatchFirstWithInitialStateMatchesTheOp) {
  manual_seed(22);
  LSTM lstm(3, 4, {.batch_first = true});
  Tensor x = randn({2, 5, 3}), h0 = randn({1, 2, 4}), c0 = randn({1, 2, 4});
  RnnOutput r = lstm.run(x, {}, h0, c0);
  auto p = lstm.named_parameters();
  LstmLayerOutput want = lstm_layer(x.transpose(0, 1), {h0.select(0, 0), c0.select(0, 0)}, p[0].second, p[1].second,
                                    p[2].second, p[3].second, {});
  expect_near(r.output, want.y.transpose(0, 1), "output", 0.0);
  expect_near(r.h_n.select(0, 0), want.h, "h_n", 0.0);
  expect_near(r.c_n.select(0, 0), want.c, "c_n", 0.0);
}

}  // namespace
}  // namespace dendrite::nn
