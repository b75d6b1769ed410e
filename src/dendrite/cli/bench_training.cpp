// W1 and W2: training throughput (samples/s) and, with --accuracy, test accuracy on Fashion-MNIST.
// W3: LSTM seq2seq training throughput (sequences/s) on synthetic reverse-copy data.
//
// The data set is loaded into memory before any timing. A step gathers its batch from a shuffled
// index order (reshuffled every epoch), runs forward, cross-entropy, backward and the optimiser:
// the same work bench/torch_workloads.py times for PyTorch (there `x[idx]` is the gather). No
// loader thread runs beside the step, so both sides have the cores to themselves.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <span>

#include "dendrite/autograd/autograd.h"
#include "dendrite/cli/bench_models.h"
#include "dendrite/cli/bench_workloads.h"
#include "dendrite/core/error.h"
#include "dendrite/core/random.h"
#include "dendrite/data/fashion_mnist.h"
#include "dendrite/nn/losses.h"
#include "dendrite/ops/creation.h"
#include "dendrite/optim/adam.h"
#include "dendrite/optim/sgd.h"

namespace dendrite::cli {
namespace {

struct TrainingSpec {
  std::string id;  // "W1"
  std::string name;
  int64_t batch;
  int64_t default_steps;     // timed steps; 0: one epoch
  int64_t accuracy_epochs;   // BENCHMARKS.md's
  double flops_per_example;  // a training step's
  std::function<nn::Sequential()> model;
  std::function<std::unique_ptr<optim::Optimizer>(nn::Sequential&)> optimizer;
};

// Batches of `batch` examples in a fresh random order every epoch; the last partial batch is
// dropped so every step has the same shape.
class BatchOrder {
 public:
  BatchOrder(int64_t examples, int64_t batch, uint64_t seed)
      : order_(static_cast<size_t>(examples)), batch_(batch), rng_(seed) {
    DENDRITE_CHECK(examples >= batch, "bench: the data set has {} training examples, fewer than a batch of {}",
                   examples, batch);
    std::iota(order_.begin(), order_.end(), int64_t{0});
    reshuffle();
  }
  int64_t batches_per_epoch() const { return static_cast<int64_t>(order_.size()) / batch_; }
  std::span<const int64_t> next() {
    if (next_ == batches_per_epoch()) reshuffle();
    return std::span<const int64_t>(order_).subspan(static_cast<size_t>(batch_ * next_++), static_cast<size_t>(batch_));
  }

 private:
  void reshuffle() {
    std::shuffle(order_.begin(), order_.end(), rng_);
    next_ = 0;
  }
  std::vector<int64_t> order_;
  int64_t batch_;
  int64_t next_ = 0;
  std::mt19937_64 rng_;
};

struct Trainee {
  nn::Sequential net;
  std::unique_ptr<optim::Optimizer> opt;
};

Trainee make_trainee(const TrainingSpec& spec, uint64_t seed) {
  manual_seed(seed);  // the initial weights
  Trainee t{spec.model(), nullptr};
  t.opt = spec.optimizer(t.net);
  return t;
}

// One step; returns the loss tensor (reading it waits for nothing: the CPU backend is synchronous).
Tensor train_step(Trainee& t, const data::TensorDataset& train, std::span<const int64_t> indices) {
  data::Batch batch = train.gather(indices);
  Tensor loss = nn::cross_entropy(t.net(batch.x), batch.y);
  t.opt->zero_grad();
  loss.backward();
  t.opt->step();
  return loss;
}

double test_accuracy(nn::Sequential& net, const data::TensorDataset& test) {
  net.eval();
  autograd::NoGradGuard no_grad;
  int64_t correct = 0;
  constexpr int64_t kChunk = 1000;
  for (int64_t begin = 0; begin < test.size(); begin += kChunk) {
    const int64_t end = std::min(test.size(), begin + kChunk);
    data::TensorDataset part = test.slice(begin, end);
    const auto predicted = to_vector<int64_t>(net(part.inputs()).argmax(1));
    const auto labels = to_vector<int64_t>(part.targets());
    for (size_t i = 0; i < labels.size(); ++i) correct += predicted[i] == labels[i];
  }
  net.train();
  return static_cast<double>(correct) / static_cast<double>(test.size());
}

BenchRecord base_record(const TrainingSpec& spec, const BenchPlan& plan) {
  BenchRecord r;
  r.key = spec.id;
  r.workload = spec.id;
  r.name = spec.name;
  r.threads = plan.threads;
  return r;
}

BenchRecord measure_throughput(const TrainingSpec& spec, const BenchPlan& plan, const data::TensorDataset& train) {
  Trainee t = make_trainee(spec, plan.seed);
  BatchOrder order(train.size(), spec.batch, plan.seed);
  int64_t steps = plan.steps.value_or(spec.default_steps);
  if (plan.full_epoch || steps == 0) steps = order.batches_per_epoch();
  DENDRITE_CHECK(steps > 0, "bench {}: --steps must be positive, got {}", spec.id, steps);

  for (int64_t i = 0; i < plan.warmup; ++i) train_step(t, train, order.next());
  const int64_t start = now_ns();
  Tensor loss;
  for (int64_t i = 0; i < steps; ++i) loss = train_step(t, train, order.next());
  const double seconds = seconds_since(start);

  BenchRecord r = base_record(spec, plan);
  r.metric = "samples_per_s";
  r.unit = "samples/s";
  const double samples = static_cast<double>(steps * spec.batch);
  r.value = samples / seconds;
  const double gflops = r.value * spec.flops_per_example / 1e9;
  r.add("batch", static_cast<double>(spec.batch));
  r.add("warmup", static_cast<double>(plan.warmup));
  r.add("steps", static_cast<double>(steps));
  r.add("seconds", seconds);
  r.add("loss", loss.item<double>());
  r.add("flop_per_sample", spec.flops_per_example);
  r.add("gflops", gflops);
  r.add("peak_gflops", plan.peak_for(plan.threads));
  r.add("peak_fraction", gflops / plan.peak_for(plan.threads));
  return r;
}

BenchRecord measure_accuracy(const TrainingSpec& spec, const BenchPlan& plan, const data::TrainTest& data) {
  Trainee t = make_trainee(spec, plan.seed);
  BatchOrder order(data.train.size(), spec.batch, plan.seed);
  const int64_t epochs = plan.epochs.value_or(plan.quick ? 1 : spec.accuracy_epochs);
  DENDRITE_CHECK(epochs > 0, "bench {}: --epochs must be positive, got {}", spec.id, epochs);
  const int64_t steps = epochs * order.batches_per_epoch();
  const int64_t start = now_ns();
  Tensor loss;
  for (int64_t i = 0; i < steps; ++i) loss = train_step(t, data.train, order.next());
  const double seconds = seconds_since(start);

  BenchRecord r = base_record(spec, plan);
  r.key = spec.id + "/accuracy";
  r.metric = "test_accuracy";
  r.unit = "accuracy";
  r.value = test_accuracy(t.net, data.test);
  r.add("epochs", static_cast<double>(epochs));
  r.add("seed", static_cast<double>(plan.seed));
  r.add("train_examples", static_cast<double>(data.train.size()));
  r.add("test_examples", static_cast<double>(data.test.size()));
  r.add("seconds", seconds);
  r.add("loss", loss.item<double>());
  r.add("samples_per_s", static_cast<double>(steps * spec.batch) / seconds);
  return r;
}

std::vector<BenchRecord> run_training(const TrainingSpec& spec, const BenchPlan& plan) {
  data::TrainTest data = data::fashion_mnist(plan.data_dir);
  std::vector<BenchRecord> records;
  if (plan.accuracy) {
    // A quick accuracy run is a smoke test of the mode, not a figure: a slice of the data.
    if (plan.quick)
      data = {data.train.slice(0, std::min<int64_t>(data.train.size(), 2048)),
              data.test.slice(0, std::min<int64_t>(data.test.size(), 1000))};
    records.push_back(measure_accuracy(spec, plan, data));
  } else {
    records.push_back(measure_throughput(spec, plan, data.train));
  }
  records.back().add("max_rss_mb", max_rss_mb());
  return records;
}

// --- W3 ---------------------------------------------------------------------------------------

// Synthetic reverse-copy data as bench/torch_workloads.py makes it: `count` sources of 12 tokens
// uniform in [0, 30) (seeded); target t is source[11 - t] + 10; the decoder reads BOS (44) and then
// the target shifted right. Row-major [count, 12] each.
struct ReverseCopy {
  static constexpr int64_t kLength = 12, kSourceVocab = 30, kTargetVocab = 45, kBos = 44;
  int64_t count = 0;
  std::vector<int64_t> source, target_in, target;
};

ReverseCopy reverse_copy_data(uint64_t seed, int64_t count = 65536) {
  constexpr int64_t L = ReverseCopy::kLength;
  Generator gen(seed);
  ReverseCopy d;
  d.count = count;
  d.source = to_vector<int64_t>(randint(0, ReverseCopy::kSourceVocab, {count, L}, DType::i64, gen));
  d.target.resize(d.source.size());
  d.target_in.resize(d.source.size());
  for (int64_t n = 0; n < count; ++n) {
    for (int64_t t = 0; t < L; ++t) {
      const auto i = static_cast<size_t>(n * L + t);
      d.target[i] = d.source[static_cast<size_t>(n * L + L - 1 - t)] + 10;
      d.target_in[i] = t == 0 ? ReverseCopy::kBos : d.target[i - 1];
    }
  }
  return d;
}

// The batch's rows of `tokens`, time-major [12, B]: PyTorch's tokens[idx] seen time-major.
Tensor time_major(const std::vector<int64_t>& tokens, std::span<const int64_t> indices) {
  constexpr int64_t L = ReverseCopy::kLength;
  const auto batch = static_cast<int64_t>(indices.size());
  std::vector<int64_t> out(static_cast<size_t>(L * batch));
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t row = indices[static_cast<size_t>(b)];
    for (int64_t t = 0; t < L; ++t) out[static_cast<size_t>(t * batch + b)] = tokens[static_cast<size_t>(row * L + t)];
  }
  return tensor<int64_t>(out, {L, batch});
}

Tensor seq2seq_step(BenchSeq2Seq& model, optim::Optimizer& opt, const ReverseCopy& d,
                    std::span<const int64_t> indices) {
  const Tensor logits = model.logits(time_major(d.source, indices), time_major(d.target_in, indices));
  const Tensor loss = nn::cross_entropy(logits.reshape({-1, ReverseCopy::kTargetVocab}),
                                        time_major(d.target, indices).reshape({-1}));
  opt.zero_grad();
  loss.backward();
  opt.step();
  return loss;
}

}  // namespace

std::vector<BenchRecord> run_mlp_training(const BenchPlan& plan) {
  const TrainingSpec spec{"W1",
                          "MLP 784-512-512-10 training, SGD",
                          128,
                          0,
                          5,
                          mlp_training_flops(),
                          bench_mlp,
                          [](nn::Sequential& net) -> std::unique_ptr<optim::Optimizer> {
                            return std::make_unique<optim::SGD>(net.named_parameters(),
                                                                optim::SGDOptions{.lr = 0.05, .momentum = 0.9});
                          }};
  return run_training(spec, plan);
}

std::vector<BenchRecord> run_cnn_training(const BenchPlan& plan) {
  const TrainingSpec spec{"W2",
                          "CNN 2 conv + 2 fc training, Adam",
                          64,
                          100,
                          3,
                          cnn_training_flops(),
                          bench_cnn,
                          [](nn::Sequential& net) -> std::unique_ptr<optim::Optimizer> {
                            return std::make_unique<optim::Adam>(net.named_parameters(),
                                                                 optim::AdamOptions{.lr = 1e-3});
                          }};
  return run_training(spec, plan);
}

// Throughput only, also under --accuracy (as torch_workloads.py does): the reverse-copy task has no
// test set of its own.
std::vector<BenchRecord> run_seq2seq_training(const BenchPlan& plan) {
  constexpr int64_t kBatch = 64, kDefaultSteps = 100;
  const ReverseCopy data = reverse_copy_data(plan.seed);
  manual_seed(plan.seed);  // the initial weights
  BenchSeq2Seq model;
  optim::Adam opt(model.named_parameters(), optim::AdamOptions{.lr = 1e-3});
  BatchOrder order(data.count, kBatch, plan.seed);
  int64_t steps = plan.full_epoch ? order.batches_per_epoch() : plan.steps.value_or(kDefaultSteps);
  DENDRITE_CHECK(steps > 0, "bench W3: --steps must be positive, got {}", steps);

  for (int64_t i = 0; i < plan.warmup; ++i) seq2seq_step(model, opt, data, order.next());
  const int64_t start = now_ns();
  Tensor loss;
  for (int64_t i = 0; i < steps; ++i) loss = seq2seq_step(model, opt, data, order.next());
  const double seconds = seconds_since(start);

  const std::string id = "W3";  // a string, not a literal: GCC 12 misreads short literal assignments
  BenchRecord r;
  r.key = id;
  r.workload = id;
  r.name = "LSTM seq2seq training, Adam";
  r.threads = plan.threads;
  r.metric = "sequences_per_s";
  r.unit = "sequences/s";
  r.value = static_cast<double>(steps * kBatch) / seconds;
  const double gflops = r.value * seq2seq_training_flops() / 1e9;
  r.add("batch", static_cast<double>(kBatch));
  r.add("warmup", static_cast<double>(plan.warmup));
  r.add("steps", static_cast<double>(steps));
  r.add("seconds", seconds);
  r.add("loss", loss.item<double>());
  r.add("flop_per_sample", seq2seq_training_flops());
  r.add("gflops", gflops);
  r.add("peak_gflops", plan.peak_for(plan.threads));
  r.add("peak_fraction", gflops / plan.peak_for(plan.threads));
  r.add("max_rss_mb", max_rss_mb());
  return {r};
}

}  // namespace dendrite::cli
