// Shapes and strides: row-major, in elements, NumPy broadcasting rules.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dendrite/core/dim_vector.h"

namespace dendrite {

using Shape = DimVector;
using Strides = DimVector;

// "[64, 784]"; the form every error message uses.
std::string to_string(const Shape& shape);
int64_t numel(const Shape& shape);
Strides contiguous_strides(const Shape& shape);

// The broadcast shape of a and b (NumPy rules), or an Error naming `op` and both shapes.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

// Normalises a possibly negative axis against `rank`, or throws an Error naming `op`.
int64_t normalize_axis(const char* op, int64_t axis, int64_t rank);

}  // namespace dendrite
