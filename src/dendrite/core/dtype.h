// Element types. f32 is the training default; bf16/f16 are storage (and mixed-precision) types;
// i8/u8 serve quantised models and images; i32/i64 hold indices and labels.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace dendrite {

enum class DType : uint8_t { f32, f64, bf16, f16, i8, u8, i32, i64 };
inline constexpr int kNumDTypes = 8;

std::string_view name(DType dtype);
size_t element_size(DType dtype);
bool is_floating(DType dtype);

// The bfloat16 bits of `value`: rounded to nearest, ties to even; a NaN stays a quiet NaN.
// Branch-free and inline so that a loop over it vectorises (the cpu kernels round whole rows).
inline uint16_t bf16_bits(float value) {
  const uint32_t u = std::bit_cast<uint32_t>(value);
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const uint32_t nan = 0u - static_cast<uint32_t>((u & 0x7fffffffu) > 0x7f800000u);
  return static_cast<uint16_t>((rounded & ~nan) | (((u >> 16) | 0x40u) & nan));
}

// bfloat16: the upper half of an IEEE binary32. Conversion rounds as bf16_bits does.
struct bf16 {
  uint16_t bits = 0;
  bf16() = default;
  explicit bf16(float value);
  explicit operator float() const;
};

// IEEE 754 binary16, converted in software (g++ 12 offers no portable half type).
struct f16 {
  uint16_t bits = 0;
  f16() = default;
  explicit f16(float value);
  explicit operator float() const;
};

template <typename T> struct dtype_of;
template <> struct dtype_of<float>   { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double>  { static constexpr DType value = DType::f64; };
template <> struct dtype_of<bf16>    { static constexpr DType value = DType::bf16; };
template <> struct dtype_of<f16>     { static constexpr DType value = DType::f16; };
template <> struct dtype_of<int8_t>  { static constexpr DType value = DType::i8; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::u8; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::i32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::i64; };
template <typename T> inline constexpr DType dtype_v = dtype_of<T>::value;

// Calls fn(T{}) with the C++ type of `dtype`, so a kernel is written once as a template.
template <typename Fn>
decltype(auto) visit_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::f32: return fn(float{});
    case DType::f64: return fn(double{});
    case DType::bf16: return fn(bf16{});
    case DType::f16: return fn(f16{});
    case DType::i8: return fn(int8_t{});
    case DType::u8: return fn(uint8_t{});
    case DType::i32: return fn(int32_t{});
    case DType::i64: return fn(int64_t{});
  }
  return fn(float{});  // unreachable: every enumerator is handled above
}

// Converts between any two element types through float/double/int64 as appropriate.
template <typename To, typename From>
To convert(From value) {
  if constexpr (std::is_same_v<To, From>) {
    return value;
  } else if constexpr (std::is_same_v<From, bf16> || std::is_same_v<From, f16>) {
    return convert<To>(static_cast<float>(value));
  } else if constexpr (std::is_same_v<To, bf16> || std::is_same_v<To, f16>) {
    return To(static_cast<float>(value));
  } else {
    return static_cast<To>(value);
  }
}

}  // namespace dendrite
