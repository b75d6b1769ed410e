#include "dendrite/data/transforms.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "dendrite/data/sampling.h"

namespace dendrite::data {
namespace {

// The batch as a contiguous f32 tensor of rank `rank` (or at least `rank` when at_least).
Tensor checked_batch(const char* op, const Tensor& batch, int64_t rank, bool at_least = false) {
  DENDRITE_CHECK(batch.defined(), "{}: the batch is an undefined tensor", op);
  DENDRITE_CHECK(batch.dtype() == DType::f32 && (at_least ? batch.dim() >= rank : batch.dim() == rank),
                 "{}: expects an f32 batch [N, C, H, W]{}, got {}", op, at_least ? " (or [N, C, ...])" : "",
                 describe(batch));
  Tensor x = batch.detach();
  return x.is_contiguous() ? x : x.contiguous();
}

Tensor empty_f32(const Shape& shape) { return TensorBase::empty(shape, DType::f32); }

}  // namespace

Normalize::Normalize(std::vector<float> mean, std::vector<float> std) : mean_(std::move(mean)), std_(std::move(std)) {
  DENDRITE_CHECK(!mean_.empty() && mean_.size() == std_.size(),
                 "Normalize: needs one mean and one standard deviation per channel, got {} and {}", mean_.size(),
                 std_.size());
  for (float s : std_) DENDRITE_CHECK(s > 0, "Normalize: standard deviations must be positive, got {}", std_);
}

Tensor Normalize::operator()(const Tensor& batch, Generator&) const {
  Tensor x = checked_batch("Normalize", batch, 2, true);
  const int64_t n = x.size(0), channels = x.size(1), plane = x.numel() / std::max<int64_t>(n * channels, 1);
  DENDRITE_CHECK(mean_.size() == 1 || static_cast<int64_t>(mean_.size()) == channels,
                 "Normalize: {} means for a batch {} with {} channels", mean_.size(), describe(x), channels);
  Tensor out = empty_f32(x.shape());
  const float* src = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t c = 0; c < channels; ++c) {
      const size_t k = mean_.size() == 1 ? 0 : static_cast<size_t>(c);
      const float m = mean_[k], s = std_[k];
      const int64_t base = (i * channels + c) * plane;
      for (int64_t j = 0; j < plane; ++j) dst[base + j] = (src[base + j] - m) / s;
    }
  }
  return out;
}

RandomCrop::RandomCrop(int64_t height, int64_t width, int64_t padding)
    : height_(height), width_(width), padding_(padding) {
  DENDRITE_CHECK(height > 0 && width > 0, "RandomCrop: the crop size must be positive, got {}x{}", height, width);
  DENDRITE_CHECK(padding >= 0, "RandomCrop: padding must be non-negative, got {}", padding);
}

Tensor RandomCrop::operator()(const Tensor& batch, Generator& gen) const {
  Tensor x = checked_batch("RandomCrop", batch, 4);
  const int64_t n = x.size(0), channels = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t padded_h = h + 2 * padding_, padded_w = w + 2 * padding_;
  DENDRITE_CHECK(height_ <= padded_h && width_ <= padded_w,
                 "RandomCrop: crop {}x{} is larger than the padded image {}x{} (batch {}, padding {})", height_, width_,
                 padded_h, padded_w, describe(x), padding_);
  Tensor out = empty_f32({n, channels, height_, width_});
  const float* src = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    // torchvision draws nothing when the window covers the whole padded image.
    int64_t top = 0, left = 0;
    if (padded_h != height_ || padded_w != width_) {
      top = uniform_int(gen, 0, padded_h - height_);
      left = uniform_int(gen, 0, padded_w - width_);
    }
    // Source column range that lands inside the image; the rest of the row is padding.
    const int64_t col0 = left - padding_;
    const int64_t lo = std::clamp<int64_t>(-col0, 0, width_), hi = std::clamp<int64_t>(w - col0, lo, width_);
    for (int64_t c = 0; c < channels; ++c) {
      const float* plane = src + (i * channels + c) * h * w;
      float* out_plane = dst + (i * channels + c) * height_ * width_;
      for (int64_t r = 0; r < height_; ++r) {
        float* row = out_plane + r * width_;
        const int64_t sr = top - padding_ + r;
        if (sr < 0 || sr >= h) {
          std::fill(row, row + width_, 0.0f);
          continue;
        }
        std::fill(row, row + lo, 0.0f);
        std::memcpy(row + lo, plane + sr * w + col0 + lo, static_cast<size_t>(hi - lo) * sizeof(float));
        std::fill(row + hi, row + width_, 0.0f);
      }
    }
  }
  return out;
}

RandomHorizontalFlip::RandomHorizontalFlip(double p) : p_(p) {
  DENDRITE_CHECK(p >= 0 && p <= 1, "RandomHorizontalFlip: probability must be in [0, 1], got {}", p);
}

Tensor RandomHorizontalFlip::operator()(const Tensor& batch, Generator& gen) const {
  Tensor x = checked_batch("RandomHorizontalFlip", batch, 4);
  const int64_t n = x.size(0), per_sample = x.numel() / std::max<int64_t>(n, 1), w = x.size(3);
  Tensor out = empty_f32(x.shape());
  const float* src = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const float* s = src + i * per_sample;
    float* d = dst + i * per_sample;
    if (gen.uniform() < p_) {
      for (int64_t row = 0; row < per_sample; row += w) std::reverse_copy(s + row, s + row + w, d + row);
    } else {
      std::memcpy(d, s, static_cast<size_t>(per_sample) * sizeof(float));
    }
  }
  return out;
}

RandomErasing::RandomErasing(double p, std::pair<double, double> scale, std::pair<double, double> ratio, float value)
    : p_(p), scale_(scale), ratio_(ratio), value_(value) {
  DENDRITE_CHECK(p >= 0 && p <= 1, "RandomErasing: probability must be in [0, 1], got {}", p);
  DENDRITE_CHECK(0 <= scale.first && scale.first <= scale.second && scale.second <= 1,
                 "RandomErasing: scale must satisfy 0 <= low <= high <= 1, got ({}, {})", scale.first, scale.second);
  DENDRITE_CHECK(0 < ratio.first && ratio.first <= ratio.second,
                 "RandomErasing: ratio must satisfy 0 < low <= high, got ({}, {})", ratio.first, ratio.second);
}

Tensor RandomErasing::operator()(const Tensor& batch, Generator& gen) const {
  Tensor x = checked_batch("RandomErasing", batch, 4);
  const int64_t n = x.size(0), channels = x.size(1), h = x.size(2), w = x.size(3);
  Tensor out = empty_f32(x.shape());
  std::memcpy(out.raw_data(), x.raw_data(), static_cast<size_t>(x.numel()) * sizeof(float));
  float* dst = out.data_ptr<float>();
  const double area = static_cast<double>(h * w);
  const double log_lo = std::log(ratio_.first), log_hi = std::log(ratio_.second);
  for (int64_t i = 0; i < n; ++i) {
    if (!(gen.uniform() < p_)) continue;
    for (int attempt = 0; attempt < 10; ++attempt) {
      const double erase_area = area * (scale_.first + (scale_.second - scale_.first) * gen.uniform());
      const double aspect = std::exp(log_lo + (log_hi - log_lo) * gen.uniform());
      // Python's round() rounds halves to even, as nearbyint does in the default rounding mode.
      const auto eh = static_cast<int64_t>(std::nearbyint(std::sqrt(erase_area * aspect)));
      const auto ew = static_cast<int64_t>(std::nearbyint(std::sqrt(erase_area / aspect)));
      if (!(eh < h && ew < w)) continue;
      const int64_t top = uniform_int(gen, 0, h - eh), left = uniform_int(gen, 0, w - ew);
      for (int64_t c = 0; c < channels; ++c) {
        float* plane = dst + (i * channels + c) * h * w;
        for (int64_t r = top; r < top + eh; ++r) std::fill(plane + r * w + left, plane + r * w + left + ew, value_);
      }
      break;
    }
  }
  return out;
}

Tensor Compose::operator()(const Tensor& batch, Generator& gen) const {
  Tensor x = batch;
  for (const Transform& t : transforms_) {
    DENDRITE_CHECK(static_cast<bool>(t), "Compose: an empty transform");
    x = t(x, gen);
  }
  return x;
}

}  // namespace dendrite::data
