#include "dendrite/kernels/precision.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "dendrite/core/error.h"

namespace dendrite::kernels {
namespace {

MathPrecision from_environment() {
  const char* value = std::getenv("DENDRITE_PRECISION");
  if (value == nullptr || *value == '\0') return MathPrecision::f32;
  return parse_math_precision(value, "DENDRITE_PRECISION");
}

std::atomic<MathPrecision>& current() {
  // Read once, on first use: a bad value is an Error at the first product, not at load time.
  static std::atomic<MathPrecision> precision{from_environment()};
  return precision;
}

}  // namespace

std::string_view name(MathPrecision precision) { return precision == MathPrecision::bf16 ? "bf16" : "f32"; }

MathPrecision parse_math_precision(std::string_view text, std::string_view what) {
  if (text == "f32") return MathPrecision::f32;
  if (text == "bf16") return MathPrecision::bf16;
  fail("{}: unknown precision '{}'; choose f32 or bf16", what, std::string(text));
}

MathPrecision math_precision() { return current().load(std::memory_order_relaxed); }
void set_math_precision(MathPrecision precision) { current().store(precision, std::memory_order_relaxed); }

ScopedMathPrecision::ScopedMathPrecision(MathPrecision precision) : previous_(math_precision()) {
  set_math_precision(precision);
}
ScopedMathPrecision::~ScopedMathPrecision() { set_math_precision(previous_); }

}  // namespace dendrite::kernels
