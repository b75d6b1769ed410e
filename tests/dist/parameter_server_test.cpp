#include <gtest/gtest.h>

#include "dendrite/dist/ps_worker.h"
#include "dendrite/nn/nn.h"
#include "dendrite/ops/ops.h"
#include "dendrite/optim/sgd.h"
#include "dist_test_env.h"

namespace dendrite::dist {
namespace {

TEST(Slicer, BalancesBytesAndCoversEveryElement) {
  const std::vector<int64_t> numels = {100, 7, 50, 3};
  const std::vector<Shard> shards = slice_by_bytes(numels, 3);
  ASSERT_EQ(shards.size(), 3u);
  std::vector<int64_t> seen(numels.size(), 0);
  for (const Shard& s : shards) {
    EXPECT_NEAR(static_cast<double>(s.elements), 160.0 / 3, 1.0);
    int64_t offset = 0;
    for (const ShardPiece& p : s.pieces) {
      EXPECT_EQ(p.offset, offset);
      offset += p.end - p.begin;
      seen[p.param] += p.end - p.begin;
    }
  }
  EXPECT_EQ(seen, numels);
}

// Workers fit y = argmax-able labels with async pushes; the shard (last rank) runs Adagrad.
TEST(ParameterServer, AsyncTrainingConverges) {
  std::shared_ptr<Communicator> comm = testing::comm();
  if (comm->size() == 1) GTEST_SKIP() << "needs a server and a worker";
  Options options;
  options.mode = Mode::ps_async;
  options.servers = 1;
  manual_seed(5);
  nn::Linear net(4, 4);
  const int workers = comm->size() - 1;
  if (comm->rank() >= workers) {
    const std::vector<RankStats> stats =
        run_parameter_server(comm, net, options, default_update_rule(options, 0.1), 0.0);
    EXPECT_EQ(stats.back().updates, 40 * workers);
    return;
  }
  Generator gen(100 + static_cast<uint64_t>(comm->rank()));
  const Tensor x = randn({32, 4}, DType::f32, gen);
  const Tensor y = x.argmax(1).detach();  // a linearly separable rule: class = the largest input
  ParameterServerWorker worker(comm, net, options);
  optim::SGD unused(net.named_parameters(), {.lr = 0.1});
  worker.start(net);
  double first = 0, last = 0;
  for (int step = 0; step < 40; ++step) {
    worker.before_forward();
    unused.zero_grad();
    Tensor loss = cross_entropy(net(x), y);
    loss.backward();
    worker.after_backward();
    worker.step(unused);
    (step == 0 ? first : last) = loss.item<double>();
  }
  const std::vector<RankStats> stats = worker.finish(40 * 32, 1.0);
  EXPECT_LT(last, 0.6 * first) << "loss " << first << " -> " << last;
  EXPECT_EQ(worker.pushes(), 40);
  EXPECT_EQ(worker.fetches(), 39);
  EXPECT_TRUE(stats.back().server);
}

}  // namespace
}  // namespace dendrite::dist
