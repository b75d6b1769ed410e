// Normalisation layers.
//
// BatchNorm2d (Ioffe & Szegedy 2015) normalises each channel of an NCHW input. In training it
// uses the batch's statistics and updates the running_mean / running_var buffers (exponential
// average with `momentum`, unbiased variance, as in PyTorch); in evaluation it uses the buffers.
// num_batches_tracked (i64, a buffer as in PyTorch's state_dict) counts training batches.
//
// LayerNorm (Ba, Kiros & Hinton 2016) normalises over the trailing `normalized_shape` axes of
// each sample, the same in training and evaluation.
#pragma once

#include "dendrite/nn/module.h"

namespace dendrite::nn {

struct BatchNormOptions {
  double eps = 1e-5;
  double momentum = 0.1;
  bool affine = true;  // learnable per-channel weight (ones) and bias (zeros)
};

class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t num_features, BatchNormOptions options = {});
  Tensor forward(const Tensor& x) override;
  std::string name() const override;

  int64_t num_features() const { return channels_; }

  Tensor weight;               // [C], undefined unless affine
  Tensor bias;                 // [C], undefined unless affine
  Tensor running_mean;         // [C], starts at 0
  Tensor running_var;          // [C], starts at 1
  Tensor num_batches_tracked;  // i64 scalar

 private:
  int64_t channels_;
  BatchNormOptions options_;
};

struct LayerNormOptions {
  double eps = 1e-5;
  bool elementwise_affine = true;  // learnable weight (ones) and bias (zeros) of normalized_shape
};

class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, LayerNormOptions options = {});
  explicit LayerNorm(int64_t normalized_size, LayerNormOptions options = {})
      : LayerNorm(Shape{normalized_size}, options) {}
  Tensor forward(const Tensor& x) override;
  std::string name() const override;

  const Shape& normalized_shape() const { return shape_; }

  Tensor weight;  // normalized_shape, undefined unless elementwise_affine
  Tensor bias;

 private:
  Shape shape_;
  LayerNormOptions options_;
};

}  // namespace dendrite::nn
