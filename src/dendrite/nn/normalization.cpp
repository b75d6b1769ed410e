#include "dendrite/nn/normalization.h"

#include "dendrite/ops/creation.h"
#include "dendrite/ops/normalization.h"

namespace dendrite::nn {

BatchNorm2d::BatchNorm2d(int64_t num_features, BatchNormOptions options) : channels_(num_features), options_(options) {
  DENDRITE_CHECK(num_features > 0, "BatchNorm2d: num_features must be positive, got {}", num_features);
  DENDRITE_CHECK(options.eps > 0, "BatchNorm2d: eps must be positive, got {}", options.eps);
  DENDRITE_CHECK(options.momentum >= 0 && options.momentum <= 1, "BatchNorm2d: momentum must be in [0, 1], got {}",
                 options.momentum);
  if (options.affine) {
    weight = register_parameter("weight", ones({channels_}));
    bias = register_parameter("bias", zeros({channels_}));
  }
  running_mean = register_buffer("running_mean", zeros({channels_}));
  running_var = register_buffer("running_var", ones({channels_}));
  num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::i64));
}

std::string BatchNorm2d::name() const {
  std::string s = fmt::format("BatchNorm2d({}", channels_);
  if (options_.eps != 1e-5) s += fmt::format(", eps={}", options_.eps);
  if (options_.momentum != 0.1) s += fmt::format(", momentum={}", options_.momentum);
  if (!options_.affine) s += ", affine=false";
  return s + ")";
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  DENDRITE_CHECK(x.dim() == 4, "{}: expected a 4-D input [N, C, H, W], got {}", name(), dendrite::to_string(x.shape()));
  DENDRITE_CHECK(x.shape()[1] == channels_, "{}: input {} has {} channels, expected {}", name(),
                 dendrite::to_string(x.shape()), x.shape()[1], channels_);
  DENDRITE_CHECK(x.dtype() == running_mean.dtype(), "{}: input is {} but the running statistics are {}", name(),
                 describe(x), describe(running_mean));
  const bool training = is_training();
  if (training) {
    DENDRITE_CHECK(x.numel() / channels_ > 1,
                   "{}: training needs more than 1 value per channel, got input {} (use a larger batch or eval())",
                   name(), dendrite::to_string(x.shape()));
    // The buffer's own storage, so every handle (checkpoints, state dicts) sees the count.
    num_batches_tracked.data_ptr<int64_t>()[0] += 1;
  }
  return batch_norm(x, running_mean, running_var, weight, bias, training, options_.momentum, options_.eps);
}

LayerNorm::LayerNorm(Shape normalized_shape, LayerNormOptions options)
    : shape_(std::move(normalized_shape)), options_(options) {
  DENDRITE_CHECK(!shape_.empty(), "LayerNorm: normalized_shape must not be empty");
  for (int64_t size : shape_) {
    DENDRITE_CHECK(size > 0, "LayerNorm: normalized_shape {} must have positive sizes", dendrite::to_string(shape_));
  }
  DENDRITE_CHECK(options.eps > 0, "LayerNorm: eps must be positive, got {}", options.eps);
  if (options.elementwise_affine) {
    weight = register_parameter("weight", ones(shape_));
    bias = register_parameter("bias", zeros(shape_));
  }
}

std::string LayerNorm::name() const {
  std::string s = fmt::format("LayerNorm({}", dendrite::to_string(shape_));
  if (options_.eps != 1e-5) s += fmt::format(", eps={}", options_.eps);
  if (!options_.elementwise_affine) s += ", elementwise_affine=false";
  return s + ")";
}

Tensor LayerNorm::forward(const Tensor& x) {
  const auto k = static_cast<int64_t>(shape_.size());
  DENDRITE_CHECK(x.dim() >= k && Shape(x.shape().end() - k, x.shape().end()) == shape_,
                 "{}: input {} does not end in the normalized shape {}", name(), dendrite::to_string(x.shape()),
                 dendrite::to_string(shape_));
  return layer_norm(x, shape_, weight, bias, options_.eps);
}

}  // namespace dendrite::nn
