#include "dendrite/data/dataloader.h"

#include <omp.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <variant>

#include "dendrite/data/sampling.h"

namespace dendrite::data {

// One epoch: its order, the current batch and, with prefetch, the worker that builds the next
// ones. The worker produces batches [start, end) in order into a queue of at most kQueued; a
// failure travels through the queue as an exception_ptr and ends the worker.
class DataLoader::Epoch {
 public:
  static constexpr size_t kQueued = 2;

  Epoch(std::shared_ptr<const Dataset> dataset, const Options& options, int64_t epoch, std::vector<int64_t> order,
        int64_t start, int64_t end)
      : dataset_(std::move(dataset)),
        options_(options),
        epoch_(epoch),
        order_(std::move(order)),
        next_(start),
        end_(end) {
    if (options_.prefetch && start < end) worker_ = std::thread([this, start] { work(start); });
    try {
      advance();
    } catch (...) {
      stop();  // no destructor runs for a constructor that throws
      throw;
    }
  }

  ~Epoch() { stop(); }

  Epoch(const Epoch&) = delete;
  Epoch& operator=(const Epoch&) = delete;

  bool done() const { return done_; }
  Batch& current() {
    DENDRITE_CHECK(!done_, "DataLoader: dereferencing an iterator past the last batch of epoch {}", epoch_);
    return current_;
  }
  int64_t epoch() const { return epoch_; }
  int64_t batch_index() const { return current_index_; }

  void advance() {
    if (next_ >= end_) {
      done_ = true;
      current_ = {};
      return;
    }
    current_index_ = next_++;
    if (!options_.prefetch) {
      try {
        current_ = make_batch(current_index_);
      } catch (...) {
        done_ = true;
        throw;
      }
      return;
    }
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !queue_.empty(); });
    Item item = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    space_.notify_one();
    if (auto* error = std::get_if<std::exception_ptr>(&item)) {
      done_ = true;
      std::rethrow_exception(*error);
    }
    current_ = std::move(std::get<Batch>(item));
  }

 private:
  using Item = std::variant<Batch, std::exception_ptr>;

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    space_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

  Batch make_batch(int64_t b) const {
    autograd::NoGradGuard no_grad;
    const auto n = static_cast<int64_t>(order_.size());
    const int64_t begin = b * options_.batch, end = std::min(begin + options_.batch, n);
    Batch batch = dataset_->gather(std::span<const int64_t>(order_.data() + begin, static_cast<size_t>(end - begin)));
    if (options_.transform) {
      Generator gen(derive_seed(options_.seed, static_cast<uint64_t>(epoch_), static_cast<uint64_t>(b) + 1));
      batch.x = options_.transform(batch.x, gen);
    }
    return batch;
  }

  void work(int64_t start) {
    // Ops a dataset or transform calls here must not fork an OpenMP team of their own beside the
    // training loop's: two teams on the same cores spin against each other (DESIGN.md).
    omp_set_num_threads(1);
    for (int64_t b = start; b < end_; ++b) {
      {
        std::unique_lock lock(mutex_);
        space_.wait(lock, [&] { return stop_ || queue_.size() < kQueued; });
        if (stop_) return;
      }
      Item item;
      try {
        item = make_batch(b);
      } catch (...) {
        item = std::current_exception();
      }
      const bool failed = std::holds_alternative<std::exception_ptr>(item);
      {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(item));
      }
      ready_.notify_one();
      if (failed) return;
    }
  }

  std::shared_ptr<const Dataset> dataset_;
  Options options_;
  int64_t epoch_;
  std::vector<int64_t> order_;
  int64_t next_;  // the next batch the consumer takes
  int64_t end_;
  int64_t current_index_ = -1;
  Batch current_;
  bool done_ = false;

  std::mutex mutex_;
  std::condition_variable ready_;  // the queue has an item
  std::condition_variable space_;  // the queue has room, or stop_ was set
  std::deque<Item> queue_;
  bool stop_ = false;
  std::thread worker_;  // last: started after every member it uses exists
};

DataLoader::Iterator::Iterator(std::unique_ptr<Epoch> epoch) : epoch_(std::move(epoch)) {}
DataLoader::Iterator::Iterator(Iterator&&) noexcept = default;
DataLoader::Iterator& DataLoader::Iterator::operator=(Iterator&&) noexcept = default;
DataLoader::Iterator::~Iterator() = default;

Batch& DataLoader::Iterator::operator*() const {
  DENDRITE_CHECK(epoch_ != nullptr, "DataLoader: dereferencing a moved-from iterator");
  return epoch_->current();
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  DENDRITE_CHECK(epoch_ != nullptr && !epoch_->done(), "DataLoader: advancing an iterator past the last batch");
  epoch_->advance();
  return *this;
}

bool DataLoader::Iterator::operator==(std::default_sentinel_t) const { return epoch_ == nullptr || epoch_->done(); }

int64_t DataLoader::Iterator::epoch() const {
  DENDRITE_CHECK(epoch_ != nullptr, "DataLoader: a moved-from iterator has no epoch");
  return epoch_->epoch();
}

int64_t DataLoader::Iterator::batch_index() const {
  DENDRITE_CHECK(epoch_ != nullptr, "DataLoader: a moved-from iterator has no batch");
  return epoch_->batch_index();
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, Options options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  DENDRITE_CHECK(dataset_ != nullptr, "DataLoader: the dataset is null");
  DENDRITE_CHECK(options_.batch >= 1, "DataLoader: batch size must be at least 1, got {}", options_.batch);
}

int64_t DataLoader::num_batches() const {
  const int64_t n = dataset_->size();
  return options_.drop_last ? n / options_.batch : (n + options_.batch - 1) / options_.batch;
}

void DataLoader::set_epoch(int64_t epoch, int64_t start_batch) {
  DENDRITE_CHECK(epoch >= 0, "DataLoader::set_epoch: epoch must be non-negative, got {}", epoch);
  DENDRITE_CHECK(start_batch >= 0 && start_batch <= num_batches(),
                 "DataLoader::set_epoch: start batch {} is outside [0, {}]", start_batch, num_batches());
  next_epoch_ = epoch;
  start_batch_ = start_batch;
}

std::vector<int64_t> DataLoader::epoch_order(int64_t epoch) const {
  const int64_t n = dataset_->size();
  if (options_.shuffle) {
    Generator gen(derive_seed(options_.seed, static_cast<uint64_t>(epoch), 0));
    return random_permutation(n, gen);
  }
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  return order;
}

DataLoader::Iterator DataLoader::begin() {
  const int64_t epoch = next_epoch_, start = start_batch_;
  next_epoch_ = epoch + 1;
  start_batch_ = 0;
  return Iterator(std::make_unique<Epoch>(dataset_, options_, epoch, epoch_order(epoch), start, num_batches()));
}

}  // namespace dendrite::data
