// DataLoader: each example once per epoch, seeded and per-epoch orders, drop_last, resuming at a
// batch, prefetching that changes nothing but timing, worker errors that reach the loop, and
// loops abandoned mid-epoch that stop the worker.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <ranges>

#include "dendrite/data/data.h"
#include "dendrite/ops/creation.h"
#include "support/errors.h"

namespace dendrite::data {
namespace {

using test_support::error_of;
using ::testing::HasSubstr;

// n examples whose input row i is [i, i + 0.5] and whose label is i.
TensorDataset numbered(int64_t n) {
  std::vector<float> x;
  for (int64_t i = 0; i < n; ++i) {
    x.push_back(static_cast<float>(i));
    x.push_back(static_cast<float>(i) + 0.5f);
  }
  return TensorDataset(tensor<float>(x, {n, 2}), arange(0, n));
}

// The labels of every batch of one pass over the loader.
std::vector<std::vector<int64_t>> labels_of_epoch(DataLoader& loader) {
  std::vector<std::vector<int64_t>> out;
  for (auto& [x, y] : loader) out.push_back(to_vector<int64_t>(y));
  return out;
}

std::vector<int64_t> flatten(const std::vector<std::vector<int64_t>>& batches) {
  std::vector<int64_t> out;
  for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
  return out;
}

TEST(DataLoaderTest, EveryExampleOncePerEpoch) {
  for (bool prefetch : {false, true}) {
    DataLoader loader(numbered(103), {.batch = 10, .shuffle = true, .seed = 3, .prefetch = prefetch});
    EXPECT_EQ(loader.num_batches(), 11);
    for (int epoch = 0; epoch < 2; ++epoch) {
      std::vector<int64_t> seen;
      int64_t batches = 0;
      for (auto& [x, y] : loader) {
        const int64_t b = y.size(0);
        EXPECT_EQ(x.shape(), (Shape{b, 2}));
        EXPECT_EQ(y.dtype(), DType::i64);
        EXPECT_EQ(b, batches < 10 ? 10 : 3);
        // Inputs travel with their labels.
        std::vector<float> xs = to_vector<float>(x);
        std::vector<int64_t> ys = to_vector<int64_t>(y);
        for (int64_t k = 0; k < b; ++k)
          EXPECT_EQ(xs[static_cast<size_t>(2 * k + 1)], static_cast<float>(ys[static_cast<size_t>(k)]) + 0.5f);
        seen.insert(seen.end(), ys.begin(), ys.end());
        ++batches;
      }
      EXPECT_EQ(batches, 11);
      EXPECT_FALSE(std::is_sorted(seen.begin(), seen.end()));
      std::sort(seen.begin(), seen.end());
      std::vector<int64_t> all(103);
      std::iota(all.begin(), all.end(), 0);
      EXPECT_EQ(seen, all) << "prefetch " << prefetch << ", epoch " << epoch;
    }
  }
}

static_assert(std::input_iterator<DataLoader::Iterator>);
static_assert(std::ranges::input_range<DataLoader>);

TEST(DataLoaderTest, ReadsLikeTheDesignSketch) {
  int64_t seen = 0;
  for (auto& [x, y] : DataLoader(numbered(10), {.batch = 4, .shuffle = true})) {
    EXPECT_EQ(x.size(0), y.size(0));
    seen += y.size(0);
  }
  EXPECT_EQ(seen, 10);
  DataLoader loader(numbered(100), {.batch = 10});
  int64_t taken = 0;
  for (auto& batch : loader | std::views::take(2)) taken += batch.y.size(0);
  EXPECT_EQ(taken, 20);
}

TEST(DataLoaderTest, WithoutShuffleTheOrderIsTheDatasets) {
  DataLoader loader(numbered(25), {.batch = 8});
  std::vector<int64_t> all(25);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(flatten(labels_of_epoch(loader)), all);
  EXPECT_EQ(flatten(labels_of_epoch(loader)), all);
}

TEST(DataLoaderTest, SameSeedSameOrderOtherSeedOtherOrder) {
  DataLoader a(numbered(200), {.batch = 16, .shuffle = true, .seed = 7});
  DataLoader b(numbered(200), {.batch = 16, .shuffle = true, .seed = 7});
  DataLoader c(numbered(200), {.batch = 16, .shuffle = true, .seed = 8});
  const auto first = labels_of_epoch(a);
  EXPECT_EQ(first, labels_of_epoch(b));
  EXPECT_NE(first, labels_of_epoch(c));
  EXPECT_EQ(flatten(first), a.epoch_order(0));
}

TEST(DataLoaderTest, EpochsDifferAndSetEpochReproducesOne) {
  DataLoader loader(numbered(200), {.batch = 16, .shuffle = true, .seed = 7});
  EXPECT_EQ(loader.next_epoch(), 0);
  const auto epoch0 = labels_of_epoch(loader);
  EXPECT_EQ(loader.next_epoch(), 1);
  const auto epoch1 = labels_of_epoch(loader);
  EXPECT_NE(epoch0, epoch1);
  loader.set_epoch(0);
  EXPECT_EQ(labels_of_epoch(loader), epoch0);
  loader.set_epoch(1);
  EXPECT_EQ(labels_of_epoch(loader), epoch1);
}

TEST(DataLoaderTest, DropLast) {
  DataLoader loader(numbered(103), {.batch = 10, .shuffle = true, .drop_last = true});
  EXPECT_EQ(loader.num_batches(), 10);
  const auto batches = labels_of_epoch(loader);
  ASSERT_EQ(batches.size(), 10u);
  for (const auto& b : batches) EXPECT_EQ(b.size(), 10u);
  DataLoader too_small(numbered(5), {.batch = 10, .drop_last = true});
  EXPECT_EQ(too_small.num_batches(), 0);
  EXPECT_TRUE(labels_of_epoch(too_small).empty());
}

TEST(DataLoaderTest, PrefetchOnAndOffGiveIdenticalBatches) {
  // Images with a random transform: the augmentation must not depend on which thread ran it.
  Generator gen(11);
  TensorDataset images(rand({70, 2, 6, 6}, DType::f32, gen), arange(0, 70));
  const Transform augment = Compose{RandomCrop(6, 2), RandomHorizontalFlip(), RandomErasing(0.5)};
  DataLoader on(images, {.batch = 16, .shuffle = true, .seed = 5, .prefetch = true, .transform = augment});
  DataLoader off(images, {.batch = 16, .shuffle = true, .seed = 5, .prefetch = false, .transform = augment});
  for (int epoch = 0; epoch < 2; ++epoch) {
    auto a = on.begin();
    auto b = off.begin();
    int64_t batches = 0;
    for (; a != on.end() && b != off.end(); ++a, ++b, ++batches) {
      EXPECT_EQ(to_vector<float>((*a).x), to_vector<float>((*b).x));
      EXPECT_EQ(to_vector<int64_t>((*a).y), to_vector<int64_t>((*b).y));
      EXPECT_EQ(a.batch_index(), batches);
      EXPECT_EQ(a.epoch(), epoch);
    }
    EXPECT_TRUE(a == on.end() && b == off.end());
    EXPECT_EQ(batches, 5);
  }
}

TEST(DataLoaderTest, StartingAtABatchResumesTheEpoch) {
  Generator gen(1);
  TensorDataset images(rand({50, 1, 4, 4}, DType::f32, gen), arange(0, 50));
  const LoaderOptions options{.batch = 8, .shuffle = true, .seed = 9, .transform = RandomHorizontalFlip()};
  DataLoader full(images, options);
  full.set_epoch(3);
  std::vector<std::vector<float>> expected;
  for (auto& [x, y] : full) expected.push_back(to_vector<float>(x));

  DataLoader resumed(images, options);
  resumed.set_epoch(3, 4);
  std::vector<std::vector<float>> got;
  for (auto& [x, y] : resumed) got.push_back(to_vector<float>(x));
  EXPECT_EQ(got, std::vector<std::vector<float>>(expected.begin() + 4, expected.end()));
  EXPECT_EQ(resumed.next_epoch(), 4);

  resumed.set_epoch(0, resumed.num_batches());
  EXPECT_TRUE(labels_of_epoch(resumed).empty());
  EXPECT_THROW(resumed.set_epoch(0, resumed.num_batches() + 1), Error);
}

// A dataset whose get() throws at one index and counts its calls; it goes through the generic
// Dataset::gather.
class Faulty : public Dataset {
 public:
  Faulty(int64_t n, int64_t bad) : n_(n), bad_(bad) {}
  int64_t size() const override { return n_; }
  Example get(int64_t i) const override {
    ++calls;
    DENDRITE_CHECK(i != bad_, "Faulty: example {} is corrupt", i);
    return {full({3}, static_cast<double>(i)), scalar_tensor(i, DType::i64)};
  }
  mutable std::atomic<int64_t> calls{0};

 private:
  int64_t n_, bad_;
};

TEST(DataLoaderTest, WorkerExceptionReachesTheLoop) {
  for (bool prefetch : {false, true}) {
    auto faulty = std::make_shared<Faulty>(100, 57);
    DataLoader loader(faulty, {.batch = 10, .prefetch = prefetch});
    int64_t batches = 0;
    try {
      for (auto& [x, y] : loader) {
        EXPECT_EQ(x.shape(), (Shape{10, 3}));
        EXPECT_EQ(y.shape(), (Shape{10}));
        ++batches;
      }
      ADD_FAILURE() << "expected an Error";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("Faulty: example 57 is corrupt"));
    }
    EXPECT_EQ(batches, 5) << "prefetch " << prefetch << ": the batches before the bad one arrive";
  }
}

TEST(DataLoaderTest, TransformErrorReachesTheLoop) {
  TensorDataset images(zeros({4, 1, 4, 4}), arange(0, 4));
  DataLoader loader(images, {.batch = 2, .transform = RandomCrop(9)});
  EXPECT_THAT(error_of([&] {
                for (auto& batch : loader) (void)batch;
              }),
              HasSubstr("RandomCrop: crop 9x9 is larger than the padded image 4x4"));
}

TEST(DataLoaderTest, AbandoningAnEpochStopsTheWorker) {
  auto faulty = std::make_shared<Faulty>(10000, -1);
  DataLoader loader(faulty, {.batch = 10, .shuffle = true});
  int64_t taken = 0;
  for (auto& batch : loader) {
    EXPECT_EQ(batch.x.size(0), 10);
    if (++taken == 3) break;
  }
  // The worker stopped within its queue bound: the 3 batches taken plus at most 2 queued and 1 in
  // the making, 10 examples each; nothing more is built after the loop has gone.
  const int64_t calls = faulty->calls;
  EXPECT_LE(calls, 60);
  EXPECT_GE(calls, 30);
  EXPECT_EQ(faulty->calls, calls);
  // The loader stays usable, and an abandoned iterator held by the caller ends cleanly too.
  auto it = loader.begin();
  EXPECT_EQ((*it).y.size(0), 10);
  ++it;
  it = loader.begin();
  EXPECT_EQ(it.epoch(), 2);
}

TEST(DataLoaderTest, GenericGatherChecksShapes) {
  class Ragged : public Dataset {
   public:
    int64_t size() const override { return 4; }
    Example get(int64_t i) const override { return {zeros({i == 2 ? 3 : 2}), scalar_tensor(i, DType::i64)}; }
  };
  DataLoader loader(Ragged{}, {.batch = 4, .prefetch = false});
  EXPECT_THAT(error_of([&] {
                for (auto& batch : loader) (void)batch;
              }),
              HasSubstr("Dataset::gather: example 2 has input f32 [3] but example 0 has f32 [2]"));
}

TEST(DataLoaderTest, TensorDatasetErrors) {
  EXPECT_THAT(error_of([] { TensorDataset(zeros({5, 2}), arange(0, 4)); }),
              HasSubstr("TensorDataset: inputs f32 [5, 2] hold 5 examples but targets i64 [4] hold 4"));
  TensorDataset ok = numbered(5);
  EXPECT_THAT([&] { ok.get(5); }, ::testing::ThrowsMessage<Error>(HasSubstr("index 5 is out of range for 5 examples")));
  TensorDataset tail = ok.slice(3, 5);
  EXPECT_EQ(tail.size(), 2);
  EXPECT_EQ(tail.get(0).target.item<int64_t>(), 3);
  EXPECT_THROW(DataLoader(ok, {.batch = 0}), Error);
}

// A scaled dataset stores bytes and serves f32 value * scale everywhere it hands out inputs.
TEST(DataLoaderTest, ScaledDatasetServesFloats) {
  const std::vector<uint8_t> bytes{0, 255, 51, 102, 7, 9};
  TensorDataset set = TensorDataset::scaled(tensor<uint8_t>(bytes, {3, 2}), arange(0, 3), 1.0 / 255.0);
  EXPECT_EQ(set.stored_inputs().dtype(), DType::u8);
  EXPECT_EQ(set.input_scale(), 1.0 / 255.0);
  Example e = set.get(1);
  EXPECT_EQ(e.input.dtype(), DType::f32);
  EXPECT_EQ(e.input.shape(), (Shape{2}));
  EXPECT_FLOAT_EQ(to_vector<float>(e.input)[0], 0.2f);
  const std::vector<int64_t> rows{2, 0};
  Batch b = set.gather(rows);
  EXPECT_EQ(b.x.shape(), (Shape{2, 2}));
  std::vector<float> x = to_vector<float>(b.x);
  EXPECT_FLOAT_EQ(x[0], 7.0f / 255.0f);
  EXPECT_EQ(x[2], 0.0f);
  EXPECT_EQ(x[3], 1.0f);
  EXPECT_EQ(to_vector<int64_t>(b.y), (std::vector<int64_t>{2, 0}));
  Tensor all = set.inputs();
  EXPECT_EQ(all.dtype(), DType::f32);
  EXPECT_EQ(all.shape(), (Shape{3, 2}));
  TensorDataset tail = set.slice(1, 3);
  EXPECT_FLOAT_EQ(to_vector<float>(tail.get(1).input)[1], 9.0f / 255.0f);
  DataLoader loader(set, {.batch = 3, .prefetch = false});
  for (auto& [bx, by] : loader) EXPECT_EQ(bx.dtype(), DType::f32);
}

TEST(DataLoaderTest, ScaledDatasetErrors) {
  EXPECT_THAT([] { TensorDataset::scaled(zeros({2, 2}), arange(0, 2), 0.5); },
              ::testing::ThrowsMessage<Error>(HasSubstr("TensorDataset::scaled: inputs must be u8, i32 or i64, got f32 [2, 2]")));
  const std::vector<uint8_t> bytes{1, 2};
  EXPECT_THAT([&] { TensorDataset::scaled(tensor<uint8_t>(bytes, {2, 1}), arange(0, 2), 0.0); },
              ::testing::ThrowsMessage<Error>(HasSubstr("scale must be finite and non-zero, got 0")));
}

}  // namespace
}  // namespace dendrite::data
