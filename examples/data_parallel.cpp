// Synchronous data parallelism in a program of one's own: the same binary trains alone or as N
// replicas, each reading its own part of every batch.
//
//   ./data_parallel                      one process
//   mpirun -np 2 ./data_parallel         two replicas (as root: see docs/dist.md for the variables)
//
// dist::init starts MPI when a launcher started the program, and gives a one-rank communicator
// otherwise. dist::DataParallel copies rank 0's weights to every rank, then averages the gradients
// while backward runs, so every replica applies the same update. The ranks start from different
// random weights on purpose, and at the end the program checks that the replicas are equal and
// that they learned; it exits non-zero otherwise, so a run is also a test.
#include <dendrite/dendrite.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numbers>
#include <vector>

namespace dd = dendrite;

namespace {

// Points in the unit disc, labelled by which of three rings they fall in: no linear model
// separates them. The same seed on every rank gives every rank the same data set.
std::shared_ptr<dd::data::TensorDataset> make_rings(int64_t n, dd::Generator& gen) {
  std::vector<float> points;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    const double r = std::sqrt(gen.uniform()), theta = 2 * std::numbers::pi * gen.uniform();
    points.push_back(static_cast<float>(r * std::cos(theta)));
    points.push_back(static_cast<float>(r * std::sin(theta)));
    labels.push_back(r < 0.5 ? 0 : r < 0.8 ? 1 : 2);
  }
  return std::make_shared<dd::data::TensorDataset>(dd::tensor<float>(points, {n, 2}), dd::tensor<int64_t>(labels));
}

// The largest difference between this rank's parameters and rank 0's, over every rank.
double replica_difference(dd::dist::Communicator& comm, dd::nn::Module& net) {
  double worst = 0;
  for (const dd::Tensor& p : net.parameters()) {
    dd::Tensor root = p.detach().clone();
    comm.broadcast(root, 0);
    worst = std::max(worst, dd::abs(p.detach() - root).max().item<double>());
  }
  dd::Tensor all = dd::tensor<double>({worst});
  comm.all_reduce(all, dd::dist::ReduceOp::max);
  return all.item<double>();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::shared_ptr<dd::dist::Communicator> comm = dd::dist::init(argc, argv);
    const int rank = comm->rank(), ranks = comm->size();
    constexpr int64_t kBatch = 64, kEpochs = 8;  // the global batch: each rank reads kBatch / ranks

    dd::Generator data_gen(7);
    auto train = make_rings(4096, data_gen);
    // Every rank iterates the same shuffled order; its ShardedDataset keeps its part of each batch.
    dd::data::DataLoader loader(std::make_shared<dd::data::ShardedDataset>(train, rank, ranks),
                                {.batch = kBatch, .shuffle = true, .seed = 3});

    dd::manual_seed(100 + static_cast<uint64_t>(rank));  // different weights on every rank, until start()
    dd::nn::Sequential net(dd::nn::Linear(2, 64), dd::nn::ReLU(), dd::nn::Linear(64, 64), dd::nn::ReLU(),
                           dd::nn::Linear(64, 3));
    dd::dist::DataParallel dp(comm, net);
    dp.start(net);
    dd::optim::SGD opt(net.named_parameters(), {.lr = 0.1, .momentum = 0.9});

    for (int64_t epoch = 0; epoch < kEpochs; ++epoch) {
      double loss_sum = 0;
      int64_t steps = 0;
      for (auto& [x, y] : loader) {
        dp.before_forward();
        opt.zero_grad();
        dd::Tensor loss = dd::cross_entropy(net(x), y);
        loss.backward();
        dp.after_backward();  // the gradients are now the mean over the ranks
        opt.step();
        loss_sum += loss.item<double>();
        ++steps;
      }
      if (rank == 0)
        std::printf("epoch %lld: loss %.4f (rank 0's part of each batch)\n", static_cast<long long>(epoch + 1),
                    loss_sum / static_cast<double>(steps));
    }

    dd::autograd::NoGradGuard no_grad;
    const dd::Tensor predicted = net(train->inputs()).argmax(1);
    const double accuracy = dd::eq(predicted, train->targets()).to(dd::DType::f64).mean().item<double>();
    const double difference = replica_difference(*comm, net);
    if (rank == 0) {
      std::printf("%d rank(s): training accuracy %.3f; largest difference between replicas %g\n", ranks, accuracy,
                  difference);
    }
    if (difference != 0.0) {
      if (rank == 0) std::fprintf(stderr, "data_parallel: the replicas differ\n");
      return 1;
    }
    if (accuracy < 0.9) {
      if (rank == 0) std::fprintf(stderr, "data_parallel: accuracy %.3f is below 0.9\n", accuracy);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "data_parallel: %s\n", e.what());
    return 1;
  }
}
