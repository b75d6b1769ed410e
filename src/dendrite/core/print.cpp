#include "dendrite/core/print.h"

#include <ostream>

namespace dendrite {

namespace {

std::string format_element(const TensorBase& t, int64_t offset, const PrintOptions& options) {
  return visit_dtype(t.dtype(), [&](auto tag) -> std::string {
    using T = decltype(tag);
    T value = static_cast<const T*>(t.storage().data())[offset];
    if constexpr (std::is_integral_v<T>) {
      return fmt::format("{}", static_cast<int64_t>(value));
    } else {
      return fmt::format("{:.{}f}", convert<double>(value), options.precision);
    }
  });
}

void print_axis(std::string& out, const TensorBase& t, size_t axis, int64_t offset, int indent,
                const PrintOptions& options) {
  const int64_t n = t.shape()[axis];
  const bool elide = n > options.threshold && n > 2 * options.edge_items;
  out += '[';
  for (int64_t i = 0; i < n; ++i) {
    if (elide && i == options.edge_items) {
      out += axis + 1 == t.shape().size() ? "..., " : fmt::format("...,\n{:{}}", "", indent + 1);
      i = n - options.edge_items - 1;
      continue;
    }
    int64_t element = offset + i * t.strides()[axis];
    if (axis + 1 == t.shape().size()) {
      out += format_element(t, element, options);
    } else {
      print_axis(out, t, axis + 1, element, indent + 1, options);
    }
    if (i + 1 < n) out += axis + 1 == t.shape().size() ? ", " : fmt::format(",\n{:{}}", "", indent + 1);
  }
  out += ']';
}

}  // namespace

std::string to_string(const TensorBase& t, const PrintOptions& options) {
  if (!t.defined()) return "tensor(undefined)";
  std::string body;
  if (t.dim() == 0) {
    body = format_element(t, t.offset(), options);
  } else {
    print_axis(body, t, 0, t.offset(), 7, options);  // 7 = strlen("tensor(")
  }
  return fmt::format("tensor({}, {})", body, describe(t));
}

std::ostream& operator<<(std::ostream& os, const TensorBase& t) { return os << to_string(t); }

}  // namespace dendrite
