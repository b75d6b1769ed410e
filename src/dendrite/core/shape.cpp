#include "dendrite/core/shape.h"

#include <algorithm>

#include "dendrite/core/error.h"

namespace dendrite {

std::string to_string(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Strides contiguous_strides(const Shape& shape) {
  Strides strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    DENDRITE_CHECK(da == db || da == 1 || db == 1, "{}: shapes cannot be broadcast: {} and {}", op,
                   to_string(a), to_string(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int64_t normalize_axis(const char* op, int64_t axis, int64_t rank) {
  int64_t bound = std::max<int64_t>(rank, 1);
  DENDRITE_CHECK(axis >= -bound && axis < bound, "{}: axis {} is out of range for a tensor of rank {}",
                 op, axis, rank);
  return axis < 0 ? axis + bound : axis;
}

}  // namespace dendrite
