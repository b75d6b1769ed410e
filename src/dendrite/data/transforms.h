// Batch transforms for data augmentation and normalisation, with torchvision's semantics applied
// to every sample of an f32 [N, C, H, W] batch. Random transforms draw from the Generator they are
// given, sample by sample in batch order; the DataLoader seeds that generator from (seed, epoch,
// batch index), so augmented runs are reproducible, with or without prefetching.
//
// A transform returns a new tensor and leaves its input untouched. The DataLoader calls it on its
// prefetch thread: a transform must not touch state the training loop uses.
#pragma once

#include <functional>
#include <initializer_list>
#include <utility>
#include <vector>

#include "dendrite/core/random.h"
#include "dendrite/ops/tensor.h"

namespace dendrite::data {

using Transform = std::function<Tensor(const Tensor& batch, Generator& gen)>;

// (x - mean[c]) / std[c] per channel; one value applies to every channel.
class Normalize {
 public:
  Normalize(std::vector<float> mean, std::vector<float> std);
  Tensor operator()(const Tensor& batch, Generator& gen) const;

 private:
  std::vector<float> mean_, std_;
};

// Zero-pads each side by `padding`, then crops a size x size (or height x width) window at a
// position drawn uniformly per sample, top offset first (torchvision RandomCrop, fill 0).
class RandomCrop {
 public:
  explicit RandomCrop(int64_t size, int64_t padding = 0) : RandomCrop(size, size, padding) {}
  RandomCrop(int64_t height, int64_t width, int64_t padding);
  Tensor operator()(const Tensor& batch, Generator& gen) const;

 private:
  int64_t height_, width_, padding_;
};

// Mirrors each sample left-right with probability p.
class RandomHorizontalFlip {
 public:
  explicit RandomHorizontalFlip(double p = 0.5);
  Tensor operator()(const Tensor& batch, Generator& gen) const;

 private:
  double p_;
};

// With probability p per sample, sets a rectangle to `value` in every channel: its area is a
// uniform fraction `scale` of the image and its log aspect ratio uniform in log(`ratio`); up to
// ten draws until it fits (Zhong et al. 2017, "Random Erasing Data Augmentation", as torchvision).
class RandomErasing {
 public:
  explicit RandomErasing(double p = 0.5, std::pair<double, double> scale = {0.02, 0.33},
                         std::pair<double, double> ratio = {0.3, 3.3}, float value = 0.0f);
  Tensor operator()(const Tensor& batch, Generator& gen) const;

 private:
  double p_;
  std::pair<double, double> scale_, ratio_;
  float value_;
};

// Applies transforms in order, sharing one generator.
class Compose {
 public:
  Compose(std::initializer_list<Transform> transforms) : transforms_(transforms) {}
  explicit Compose(std::vector<Transform> transforms) : transforms_(std::move(transforms)) {}
  Tensor operator()(const Tensor& batch, Generator& gen) const;

 private:
  std::vector<Transform> transforms_;
};

}  // namespace dendrite::data
