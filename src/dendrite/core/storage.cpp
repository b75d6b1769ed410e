#include "dendrite/core/storage.h"

#include <cstdlib>
#include <new>

#include "dendrite/core/error.h"

namespace dendrite {

namespace {
constexpr size_t kAlignment = 64;  // one cache line; also what AVX-512 loads prefer
}

std::string to_string(Device device) {
  return device.type == DeviceType::cpu ? "cpu" : fmt::format("cuda:{}", device.index);
}

Storage Storage::allocate(size_t bytes, Device device) {
  DENDRITE_CHECK(device.type == DeviceType::cpu, "allocate: device {} is not available in this build",
                 to_string(device));
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* data = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (data == nullptr) fail("allocate: out of memory allocating {} bytes", bytes);
  Storage s;
  s.owner_ = std::shared_ptr<void>(data, [](void* p) { std::free(p); });
  s.data_ = data;
  s.bytes_ = bytes;
  s.device_ = device;
  return s;
}

Storage Storage::wrap(void* data, size_t bytes, std::shared_ptr<void> keep_alive, Device device) {
  Storage s;
  s.owner_ = keep_alive ? std::move(keep_alive) : std::shared_ptr<void>(data, [](void*) {});
  s.data_ = data;
  s.bytes_ = bytes;
  s.device_ = device;
  return s;
}

}  // namespace dendrite
