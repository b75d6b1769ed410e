// Making tensors: uninitialised, constant, ranges, random (seeded through core/random.h) and from
// C++ data. Names follow PyTorch (torch.zeros, torch.randn, torch.arange, torch.tensor).
#pragma once

#include <span>
#include <vector>

#include "dendrite/core/random.h"
#include "dendrite/ops/tensor.h"

namespace dendrite {

Tensor empty(const Shape& shape, DType dtype = DType::f32);
Tensor zeros(const Shape& shape, DType dtype = DType::f32);
Tensor ones(const Shape& shape, DType dtype = DType::f32);
Tensor full(const Shape& shape, Scalar value, DType dtype = DType::f32);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor empty_like(const Tensor& t);
// [start, end) in steps of `step`.
Tensor arange(Scalar start, Scalar end, Scalar step = 1, DType dtype = DType::i64);
// Uniform on [low, high), and normal; use the default generator unless one is given.
Tensor rand(const Shape& shape, DType dtype = DType::f32, Generator& gen = default_generator());
Tensor uniform(const Shape& shape, double low, double high, DType dtype = DType::f32,
               Generator& gen = default_generator());
Tensor randn(const Shape& shape, DType dtype = DType::f32, Generator& gen = default_generator());
Tensor normal(const Shape& shape, double mean, double stddev, DType dtype = DType::f32,
              Generator& gen = default_generator());
// Random integers in [low, high).
Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype = DType::i64,
               Generator& gen = default_generator());

// Copies `values` into a new tensor of `shape` (1-D of values.size() when shape is empty).
template <typename T>
Tensor tensor(std::span<const T> values, Shape shape = {});
template <typename T>
Tensor tensor(const std::vector<T>& values, Shape shape = {}) {
  return tensor<T>(std::span<const T>(values), std::move(shape));
}
template <typename T>
Tensor tensor(std::initializer_list<T> values, Shape shape = {}) {
  return tensor<T>(std::span<const T>(values.begin(), values.size()), std::move(shape));
}
// A zero-dimensional tensor holding `value`.
Tensor scalar_tensor(Scalar value, DType dtype = DType::f32);

// Reads every element into a std::vector<T> in row-major order (any strides), converting.
template <typename T>
std::vector<T> to_vector(const TensorBase& t);

}  // namespace dendrite
