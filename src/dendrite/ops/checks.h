// Argument checks shared by op families.
#pragma once

#include <initializer_list>

#include "dendrite/core/tensor_base.h"

namespace dendrite {

// Throws "<op>: tensors are on different devices: cpu and cuda:0" unless every defined tensor
// lives on the same device.
void check_same_device(const char* op, std::initializer_list<const TensorBase*> tensors);

}  // namespace dendrite
