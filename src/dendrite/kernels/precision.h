// The precision of f32 matrix products and convolutions. `bf16` rounds the two inputs of an f32
// matmul (2-D, at least 16 in every dimension) or of any convolution pass to bfloat16 and
// accumulates and writes the result in f32, the mixed precision of Kalamkar et al. 2019 ("A Study
// of BFLOAT16 for Deep Learning Training"): parameters, gradients, optimiser state and every other
// op stay f32. CPUs with AVX-512 BF16 run such products about twice as fast
// (docs/performance.md). Batched (attention) products stay f32 for now; where oneDNN has no bf16
// kernel for a shape the op runs in f32.
//
// The setting is process-wide. Its initial value comes from the environment variable
// DENDRITE_PRECISION (f32 or bf16; unset means f32).
#pragma once

#include <cstdint>
#include <string_view>

namespace dendrite::kernels {

enum class MathPrecision : uint8_t { f32, bf16 };

std::string_view name(MathPrecision precision);
// "f32" or "bf16"; anything else is an Error naming `what` (a flag, a variable) and the choices.
MathPrecision parse_math_precision(std::string_view text, std::string_view what);

MathPrecision math_precision();
void set_math_precision(MathPrecision precision);

// Sets the precision until destruction, then restores the previous one.
class ScopedMathPrecision {
 public:
  explicit ScopedMathPrecision(MathPrecision precision);
  ~ScopedMathPrecision();
  ScopedMathPrecision(const ScopedMathPrecision&) = delete;
  ScopedMathPrecision& operator=(const ScopedMathPrecision&) = delete;

 private:
  MathPrecision previous_;
};

}  // namespace dendrite::kernels
