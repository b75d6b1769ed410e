#include "dendrite/core/storage.h"

#include "dendrite/core/allocator.h"
#include "dendrite/core/error.h"

namespace dendrite {

std::string to_string(Device device) {
  return device.type == DeviceType::cpu ? "cpu" : fmt::format("cuda:{}", device.index);
}

Storage Storage::allocate(size_t bytes, Device device) {
  DENDRITE_CHECK(device.type == DeviceType::cpu, "allocate: device {} is not available in this build",
                 to_string(device));
  void* data = host_allocate(bytes);
  Storage s;
  s.owner_ = std::shared_ptr<void>(data, [bytes](void* p) { host_free(p, bytes); });
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
