// N ranks with batch B/N each end with the weights 1 rank with batch B reaches, step after step.
#include "dendrite/dist/data_parallel.h"

#include <gtest/gtest.h>

#include "dendrite/data/dataloader.h"
#include "dendrite/data/sharded_dataset.h"
#include "dendrite/nn/nn.h"
#include "dendrite/ops/ops.h"
#include "dendrite/optim/sgd.h"
#include "dist_test_env.h"

namespace dendrite::dist {
namespace {

constexpr int64_t kExamples = 96, kBatch = 24, kSteps = 8;

data::TensorDataset make_data() {
  Generator gen(7);
  Tensor x = randn({kExamples, 6}, DType::f32, gen);
  std::vector<int64_t> labels(static_cast<size_t>(kExamples));
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int64_t>((i * 7) % 3);
  return data::TensorDataset(x, tensor(labels, {kExamples}));
}

std::unique_ptr<nn::Sequential> make_model(int scramble) {
  manual_seed(11 + static_cast<uint64_t>(scramble));  // other ranks start elsewhere: start() fixes it
  auto net = std::make_unique<nn::Sequential>(nn::Linear(6, 16), nn::ReLU(), nn::Linear(16, 3));
  return net;
}

void train(nn::Module& net, data::DataLoader& loader, Strategy* strategy) {
  optim::SGD opt(net.named_parameters(), {.lr = 0.1, .momentum = 0.9});
  if (strategy != nullptr) strategy->start(net);
  int64_t steps = 0;
  while (steps < kSteps)
    for (auto& [x, y] : loader) {
      if (steps++ == kSteps) break;
      opt.zero_grad();
      cross_entropy(net(x), y).backward();
      if (strategy != nullptr) strategy->after_backward();
      opt.step();
    }
}

TEST(DataParallel, MatchesOneRankWithTheWholeBatch) {
  std::shared_ptr<Communicator> comm = testing::comm();
  const data::TensorDataset dataset = make_data();

  auto reference = make_model(0);  // what one process with batch B computes, on every rank
  data::DataLoader whole(dataset, {.batch = kBatch, .shuffle = true, .seed = 3, .prefetch = false});
  train(*reference, whole, nullptr);

  auto replica = make_model(comm->rank());
  DataParallel dp(comm, *replica, {.bucket_bytes = 256});  // several buckets
  auto shard = std::make_shared<data::ShardedDataset>(std::make_shared<data::TensorDataset>(dataset), comm->rank(),
                                                      comm->size());
  data::DataLoader mine(std::shared_ptr<const data::Dataset>(shard),
                        {.batch = kBatch, .shuffle = true, .seed = 3, .prefetch = false});
  train(*replica, mine, &dp);

  const nn::NamedTensors a = reference->named_parameters(), b = replica->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const std::vector<float> x = to_vector<float>(a[i].second), y = to_vector<float>(b[i].second);
    for (size_t k = 0; k < x.size(); ++k)
      ASSERT_NEAR(x[k], y[k], 1e-5) << a[i].first << "[" << k << "] after " << kSteps << " steps on rank "
                                    << comm->rank();
  }
}

TEST(DataParallel, DifferentModelsAreCaughtAtStart) {
  std::shared_ptr<Communicator> comm = testing::comm();
  if (comm->size() == 1) GTEST_SKIP() << "needs two ranks";
  const int64_t hidden = comm->rank() == 1 ? 17 : 16;
  nn::Sequential net(nn::Linear(6, hidden), nn::ReLU(), nn::Linear(hidden, 3));
  DataParallel dp(comm, net);
  try {
    dp.start(net);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("parameter '0.weight'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("rank 0 has f32 [16, 6], rank 1 has f32 [17, 6]"), std::string::npos)
        << e.what();
  }
}

TEST(ShardedDataset, ShardsOfABatchAreDisjointAndCoverIt) {
  auto inner = std::make_shared<data::TensorDataset>(make_data());
  int64_t covered = 0;
  for (int s = 0; s < 3; ++s) {
    data::ShardedDataset shard(inner, s, 3);
    const auto [begin, end] = shard.range(10);
    EXPECT_EQ(begin, covered);
    covered = end;
  }
  EXPECT_EQ(covered, 10);
  EXPECT_THROW(data::ShardedDataset(inner, 2, 4).gather(std::vector<int64_t>{1, 2}), Error);
}

}  // namespace
}  // namespace dendrite::dist
