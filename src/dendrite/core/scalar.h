// A number that is either floating or integral, so that `x * 2` and `x + 0.5` need one overload
// each instead of one per C++ type (STYLE.md: no macro-stamped scalar overloads).
#pragma once

#include <cstdint>
#include <type_traits>

namespace dendrite {

class Scalar {
 public:
  template <typename T>
    requires std::is_arithmetic_v<T>
  Scalar(T value) {  // NOLINT(google-explicit-constructor): numbers convert implicitly on purpose
    if constexpr (std::is_floating_point_v<T>) {
      is_floating_ = true;
      d_ = static_cast<double>(value);
    } else {
      i_ = static_cast<int64_t>(value);
    }
  }
  bool is_floating() const { return is_floating_; }
  double to_double() const { return is_floating_ ? d_ : static_cast<double>(i_); }
  int64_t to_int() const { return is_floating_ ? static_cast<int64_t>(d_) : i_; }

 private:
  bool is_floating_ = false;
  double d_ = 0.0;
  int64_t i_ = 0;
};

}  // namespace dendrite
