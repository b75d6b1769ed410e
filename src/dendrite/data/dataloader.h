// DataLoader: turns a Dataset into a stream of batches for one epoch per range-for loop.
//
//   DataLoader loader(train, {.batch = 128, .shuffle = true, .seed = 1, .transform = RandomHorizontalFlip()});
//   for (int epoch = 0; epoch < 10; ++epoch)
//     for (auto& [x, y] : loader) { ... }       // each loop is the next epoch
//
// Order and augmentation are functions of (seed, epoch, batch index) alone, so a run is
// reproducible, and set_epoch(e, k) resumes exactly where a checkpoint stopped. With prefetch on,
// one worker thread builds batches ahead (at most two queued) while the training step runs; an
// exception thrown there (a corrupt example, a failing transform) reaches the loop on the next
// ++, and leaving the loop early (break, exception) stops and joins the worker.
//
// Thread-safety: one iteration at a time per loader; the dataset must allow concurrent const
// access from the worker while the caller holds it (TensorDataset does).
#pragma once

#include <concepts>
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include "dendrite/data/dataset.h"
#include "dendrite/data/transforms.h"

namespace dendrite::data {

struct LoaderOptions {
  int64_t batch = 64;
  bool shuffle = false;    // a new random order every epoch
  bool drop_last = false;  // skip the last, smaller batch
  uint64_t seed = 0;
  bool prefetch = true;      // build batches on a worker thread
  Transform transform = {};  // applied to each batch's x; none when empty
};

class DataLoader {
 public:
  using Options = LoaderOptions;

 private:
  class Epoch;  // one epoch's state, defined in dataloader.cpp

 public:
  // A move-only input iterator that owns one epoch's state (and its worker thread).
  class Iterator {
   public:
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    explicit Iterator(std::unique_ptr<Epoch> epoch);
    Iterator(Iterator&&) noexcept;
    Iterator& operator=(Iterator&&) noexcept;
    ~Iterator();

    Batch& operator*() const;
    Iterator& operator++();
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const;

    int64_t epoch() const;        // the epoch being iterated
    int64_t batch_index() const;  // index of the current batch within the epoch

   private:
    std::unique_ptr<Epoch> epoch_;
  };

  DataLoader(std::shared_ptr<const Dataset> dataset, Options options = {});
  // Holds its own copy of a dataset passed by value (cheap for TensorDataset: storage is shared).
  template <std::derived_from<Dataset> D>
  DataLoader(D dataset, Options options = {})  // NOLINT: lets `DataLoader(train, {...})` read naturally
      : DataLoader(std::make_shared<const D>(std::move(dataset)), std::move(options)) {}

  // Starts the next epoch (see set_epoch); afterwards the one after it is next.
  Iterator begin();
  std::default_sentinel_t end() const { return {}; }

  // The next begin() runs epoch `epoch` from batch `start_batch` (0 <= start_batch <= num_batches()).
  void set_epoch(int64_t epoch, int64_t start_batch = 0);
  int64_t next_epoch() const { return next_epoch_; }

  int64_t num_batches() const;
  int64_t num_examples() const { return dataset_->size(); }
  const Options& options() const { return options_; }
  const Dataset& dataset() const { return *dataset_; }

  // The dataset indices of an epoch in the order its batches take them.
  std::vector<int64_t> epoch_order(int64_t epoch) const;

 private:
  std::shared_ptr<const Dataset> dataset_;
  Options options_;
  int64_t next_epoch_ = 0;
  int64_t start_batch_ = 0;
};

}  // namespace dendrite::data
