#include "dendrite/ops/checks.h"

namespace dendrite {

void check_same_device(const char* op, std::initializer_list<const TensorBase*> tensors) {
  const TensorBase* first = nullptr;
  for (const TensorBase* t : tensors) {
    if (t == nullptr || !t->defined()) continue;
    if (first == nullptr) {
      first = t;
    } else {
      DENDRITE_CHECK(t->device() == first->device(), "{}: tensors are on different devices: {} and {}", op,
                     to_string(first->device()), to_string(t->device()));
    }
  }
}

}  // namespace dendrite
