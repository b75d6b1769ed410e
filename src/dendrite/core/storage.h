// Storage: one reference-counted, 64-byte-aligned buffer that any number of tensor views share.
// Thread-safety: the reference count is atomic; the bytes themselves are not synchronised.
#pragma once

#include <cstddef>
#include <memory>

#include "dendrite/core/device.h"

namespace dendrite {

class Storage {
 public:
  Storage() = default;
  // Allocates `bytes` uninitialised bytes on `device`.
  static Storage allocate(size_t bytes, Device device = kCPU);
  // Wraps memory owned by someone else; `keep_alive` is released when the last view is gone.
  static Storage wrap(void* data, size_t bytes, std::shared_ptr<void> keep_alive, Device device = kCPU);

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }
  bool defined() const { return owner_ != nullptr; }
  // True when no other Storage shares this buffer (used to reuse buffers in place).
  bool unique() const { return owner_.use_count() == 1; }

 private:
  std::shared_ptr<void> owner_;
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_ = kCPU;
};

}  // namespace dendrite
