// A cache of oneDNN primitives keyed by everything that shapes them (dims, strides, parameters),
// so that a training loop, which repeats the same shapes every step, creates each primitive once.
// oneDNN keeps a cache of its own, but creating the descriptors and looking that cache up still
// costs tens of microseconds per call, which small layers would feel.
//
// The key also holds the thread count: oneDNN's OpenMP primitives plan their work split when they
// are created, so a primitive made for 2 threads must not serve a call after set_num_threads(1).
//
// Thread-safety: lookups and inserts take a mutex; creation runs outside it, so two threads that
// miss on the same key may both create a primitive and the first insert wins. Entries are shared
// and immutable, so a caller keeps using its entry even if the cache is cleared meanwhile.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>

#include "dendrite/core/threading.h"

namespace dendrite::kernels::cpu::onednn {

// The bytes of a sequence of integers; sequences are length-prefixed so that ([1, 2], [3]) and
// ([1], [2, 3]) give different keys.
class PrimitiveKey {
 public:
  explicit PrimitiveKey(int64_t kind) {
    add(kind);
    add(static_cast<int64_t>(num_threads()));
  }
  PrimitiveKey& add(int64_t value) {
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof value);
    return *this;
  }
  PrimitiveKey& add(std::span<const int64_t> values) {
    add(static_cast<int64_t>(values.size()));
    bytes_.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
    return *this;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

template <typename Value>
class PrimitiveCache {
 public:
  template <typename Make>
  std::shared_ptr<const Value> get(const PrimitiveKey& key, Make&& make) {
    {
      std::lock_guard lock(mutex_);
      if (auto it = entries_.find(key.bytes()); it != entries_.end()) return it->second;
    }
    auto value = std::make_shared<const Value>(make());
    std::lock_guard lock(mutex_);
    // Programs with ever-changing shapes (variable sequence lengths) would otherwise grow the
    // cache without bound; starting over is simple and the steady state refills it at once.
    if (entries_.size() >= kCapacity) entries_.clear();
    return entries_.emplace(key.bytes(), std::move(value)).first->second;
  }

 private:
  static constexpr size_t kCapacity = 1024;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const Value>> entries_;
};

}  // namespace dendrite::kernels::cpu::onednn
