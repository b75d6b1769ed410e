// --deterministic: sums in rank order, so every rank and every run computes the same bits; and
// sync_state: batch norm's running statistics become their mean over the ranks.
#include <gtest/gtest.h>

#include <cstring>

#include "dendrite/data/dataloader.h"
#include "dendrite/data/sharded_dataset.h"
#include "dendrite/dist/data_parallel.h"
#include "dendrite/dist/ordered_reduce.h"
#include "dendrite/nn/nn.h"
#include "dendrite/ops/ops.h"
#include "dendrite/optim/sgd.h"
#include "dist_test_env.h"

namespace dendrite::dist {
namespace {

constexpr int64_t kElements = 999;

// Rank r's contribution: magnitudes spread over six decades, so that the order of the additions
// shows in the last bits of float sums.
std::vector<float> contribution(int r) {
  Generator gen(100 + static_cast<uint64_t>(r));
  std::vector<float> v = to_vector<float>(randn({kElements}, DType::f32, gen));
  for (size_t i = 0; i < v.size(); ++i) v[i] *= (i + static_cast<size_t>(r)) % 3 == 0 ? 1e3f : 1e-3f;
  return v;
}

// ((c0 * s) + (c1 * s)) + ... in float, s = 1 / ranks: what every rank must hold, bit for bit.
std::vector<float> mean_in_rank_order(int ranks) {
  const float scale = 1.0f / static_cast<float>(ranks);
  std::vector<float> sum(static_cast<size_t>(kElements), 0.0f);
  for (int r = 0; r < ranks; ++r) {
    const std::vector<float> c = contribution(r);
    for (size_t i = 0; i < sum.size(); ++i) sum[i] = r == 0 ? c[i] * scale : sum[i] + c[i] * scale;
  }
  return sum;
}

void expect_same_bits(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0) << what;
}

TEST(OrderedReduce, MeanIsTheRankOrderSumOnEveryRank) {
  std::shared_ptr<Communicator> comm = testing::comm();
  Tensor t = tensor(contribution(comm->rank()), {kElements});
  all_reduce_in_rank_order(*comm, t, ReduceOp::mean);
  expect_same_bits(to_vector<float>(t), mean_in_rank_order(comm->size()), "all_reduce_in_rank_order");
}

TEST(OrderedReduce, DeterministicReducerGradientIsTheRankOrderMean) {
  std::shared_ptr<Communicator> comm = testing::comm();
  Tensor p = zeros({kElements});
  p.requires_grad_();
  // Two buckets, so the gathered buckets' boundaries are exercised too.
  Tensor q = zeros({kElements});
  q.requires_grad_();
  GradientReducer reducer(comm, {{"p", p}, {"q", q}}, {.bucket_bytes = 64, .deterministic = true});
  ASSERT_EQ(reducer.buckets(), 2);
  const Tensor c = tensor(contribution(comm->rank()), {kElements});
  for (int step = 0; step < 2; ++step) {  // buffers are reused across steps
    p.set_grad({});
    q.set_grad({});
    ((p * c).sum() + (q * c).sum()).backward();  // d/dp = c on this rank
    reducer.finish();
    expect_same_bits(to_vector<float>(p.grad()), mean_in_rank_order(comm->size()), "p.grad()");
    expect_same_bits(to_vector<float>(q.grad()), mean_in_rank_order(comm->size()), "q.grad()");
  }
}

// A model with batch norm: buffers as well as parameters.
std::unique_ptr<nn::Sequential> make_model(int rank) {
  manual_seed(21 + static_cast<uint64_t>(rank));  // start() makes rank 0's weights everyone's
  return std::make_unique<nn::Sequential>(nn::BatchNorm2d(2), nn::Flatten(), nn::Linear(8, 12), nn::ReLU(),
                                          nn::Linear(12, 3));
}

data::TensorDataset make_data() {
  Generator gen(5);
  Tensor x = randn({64, 2, 2, 2}, DType::f32, gen) * 3.0 + 1.0;
  std::vector<int64_t> labels(64);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int64_t>((i * 5) % 3);
  return data::TensorDataset(x, tensor(labels, {64}));
}

// Parameters and buffers, flattened, after a few deterministic data-parallel steps.
std::vector<float> train_deterministically(Communicator& comm, const std::shared_ptr<Communicator>& shared) {
  auto net = make_model(comm.rank());
  DataParallel dp(shared, *net, {.bucket_bytes = 128, .deterministic = true});
  optim::SGD opt(net->named_parameters(), {.lr = 0.05, .momentum = 0.9});
  auto shard = std::make_shared<data::ShardedDataset>(std::make_shared<data::TensorDataset>(make_data()),
                                                      comm.rank(), comm.size());
  data::DataLoader loader(std::shared_ptr<const data::Dataset>(shard),
                          {.batch = 16, .shuffle = true, .seed = 9, .prefetch = false});
  dp.start(*net);
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    loader.set_epoch(epoch);
    for (auto& [x, y] : loader) {
      opt.zero_grad();
      cross_entropy((*net)(x), y).backward();
      dp.after_backward();
      opt.step();
    }
  }
  dp.sync_state(*net);
  std::vector<float> all;
  for (const nn::NamedTensors& group : {net->named_parameters(), net->named_buffers()})
    for (const auto& [name, t] : group)
      if (t.dtype() == DType::f32) {
        const std::vector<float> v = to_vector<float>(t);
        all.insert(all.end(), v.begin(), v.end());
      }
  return all;
}

TEST(DataParallel, DeterministicRunsAreBitIdenticalOnEveryRank) {
  std::shared_ptr<Communicator> comm = testing::comm();
  const std::vector<float> first = train_deterministically(*comm, comm);
  const std::vector<float> second = train_deterministically(*comm, comm);
  expect_same_bits(second, first, "a second run of the same job");

  // Every rank holds rank 0's bits.
  const auto n = static_cast<int64_t>(first.size());
  Tensor mine = tensor(first, {n});
  Tensor everyone = zeros({n * comm->size()});
  comm->all_gather(mine, everyone);
  const std::vector<float> all = to_vector<float>(everyone);
  for (int r = 1; r < comm->size(); ++r)
    expect_same_bits(std::vector<float>(all.begin() + r * n, all.begin() + (r + 1) * n), first,
                     "rank " + std::to_string(r) + " against rank 0");
}

TEST(DataParallel, SyncStateAveragesBatchNormStatistics) {
  std::shared_ptr<Communicator> comm = testing::comm();
  const int ranks = comm->size();
  // Rank r normalises batches drawn around r: its running statistics differ from the others'.
  auto batch_of = [](int r) {
    Generator gen(40 + static_cast<uint64_t>(r));
    return randn({8, 2, 2, 2}, DType::f32, gen) * (1.0 + r) + 2.0 * r;
  };
  auto running_after = [&](int r) {  // what rank r's buffers hold after two batches of its own
    nn::BatchNorm2d bn(2);
    for (int k = 0; k < 2; ++k) bn(batch_of(r));
    return std::pair{to_vector<float>(bn.running_mean), to_vector<float>(bn.running_var)};
  };

  auto net = make_model(comm->rank());
  DataParallel dp(comm, *net);
  dp.start(*net);
  auto& bn = dynamic_cast<nn::BatchNorm2d&>(*net->named_children().at(0).second);
  for (int k = 0; k < 2; ++k) bn(batch_of(comm->rank()));
  dp.sync_state(*net);

  std::vector<double> mean(2, 0.0), var(2, 0.0);
  for (int r = 0; r < ranks; ++r) {
    const auto [m, v] = running_after(r);
    for (size_t c = 0; c < 2; ++c) {
      mean[c] += m[c] / ranks;
      var[c] += v[c] / ranks;
    }
  }
  const std::vector<float> got_mean = to_vector<float>(bn.running_mean), got_var = to_vector<float>(bn.running_var);
  for (size_t c = 0; c < 2; ++c) {
    EXPECT_NEAR(got_mean[c], mean[c], 1e-5) << "running_mean[" << c << "] on rank " << comm->rank();
    EXPECT_NEAR(got_var[c], var[c], 1e-4) << "running_var[" << c << "] on rank " << comm->rank();
  }
  EXPECT_EQ(to_vector<int64_t>(bn.num_batches_tracked), std::vector<int64_t>{2}) << "counters are left alone";
}

}  // namespace
}  // namespace dendrite::dist
