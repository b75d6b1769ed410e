// Printing tensors in the familiar nested-bracket form, eliding the middle of large axes:
//   tensor([[0.1000, -1.2000],
//           [3.0000, 4.5000]], f32 [2, 2])
#pragma once

#include <iosfwd>
#include <string>

#include "dendrite/core/tensor_base.h"

namespace dendrite {

struct PrintOptions {
  int precision = 4;      // digits after the decimal point for floating-point values
  int64_t edge_items = 3;  // items shown at each end of an axis longer than `threshold`
  int64_t threshold = 8;
};

std::string to_string(const TensorBase& t, const PrintOptions& options = {});
std::ostream& operator<<(std::ostream& os, const TensorBase& t);

}  // namespace dendrite
