// Where a tensor's memory lives. Kernels for a device come from one or more backends (see
// kernels/registry.h): the cpu device is served by the `cpu` backend with `reference` as fallback.
#pragma once

#include <cstdint>
#include <string>

namespace dendrite {

enum class DeviceType : uint8_t { cpu, cuda };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;
  bool operator==(const Device&) const = default;
};

inline const Device kCPU{DeviceType::cpu, 0};

std::string to_string(Device device);

}  // namespace dendrite
