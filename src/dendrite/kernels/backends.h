// Each backend exposes one registration function; Registry::global() calls every backend compiled
// into this build. (Self-registering static objects would be dropped by the linker from a static
// library, so registration is explicit.)
#pragma once

#include "dendrite/kernels/registry.h"

namespace dendrite::kernels {
void register_reference_backend(Registry& registry);
void register_cpu_backend(Registry& registry);
}  // namespace dendrite::kernels
