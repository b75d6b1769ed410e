// Datasets: indexed collections of examples that a DataLoader batches. A Dataset answers size()
// and get(i); gather(indices) builds a whole batch and has a generic implementation (get each
// example, copy it into one contiguous buffer), which TensorDataset overrides with direct row copies.
//
// Thread-safety: a DataLoader calls get() and gather() on its prefetch thread while the training
// loop runs, so these const methods must not mutate shared state. TensorDataset is immutable.
#pragma once

#include <cstdint>
#include <span>

#include "dendrite/ops/tensor.h"

namespace dendrite::data {

// One example. `target` is a zero-dimensional i64 tensor for class labels, or any tensor
// (e.g. the image itself for an autoencoder); it may be undefined for unlabelled data.
struct Example {
  Tensor input;
  Tensor target;
};

// A batch: x stacks the inputs ([B, *input shape]), y the targets ([B, *target shape], so [B]
// i64 for class labels). Each batch owns fresh storage; keeping it is safe.
struct Batch {
  Tensor x;
  Tensor y;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual Example get(int64_t index) const = 0;
  // The examples at `indices` stacked along a new first axis. Every example must have the same
  // input (and target) shape and dtype; the first that differs is an error naming both.
  virtual Batch gather(std::span<const int64_t> indices) const;
};

// A dataset held as two whole tensors whose first axis indexes examples: inputs [N, ...] of any
// dtype (e.g. images f32 [N, C, H, W] or u8) and targets [N, ...] (e.g. labels i64 [N]).
// Copying a TensorDataset is cheap: both copies share the tensors' storage.
//
// Compact storage: `TensorDataset::scaled(u8 images, labels, 1.0 / 255)` keeps the inputs as they
// are stored and serves them as f32 (value * scale) in get(), gather() and inputs(). Fashion-MNIST
// held that way takes 47 MB instead of 188 MB, and converting a 128-image batch costs about what
// copying its f32 rows would.
class TensorDataset : public Dataset {
 public:
  // Makes contiguous, history-free copies only when the tensors are not contiguous already.
  TensorDataset(Tensor inputs, Tensor targets);
  // Inputs of an integer dtype (u8, i32 or i64), served as f32 inputs * scale.
  static TensorDataset scaled(Tensor inputs, Tensor targets, double scale);

  int64_t size() const override { return size_; }
  // Views into the tensors, no copy (a converted copy of the input when the dataset is scaled).
  Example get(int64_t index) const override;
  Batch gather(std::span<const int64_t> indices) const override;

  // Every input as the model sees it: the stored tensor, or for a scaled dataset a new f32 tensor
  // of all of them (evaluating a whole split at once).
  Tensor inputs() const;
  // The inputs as stored (u8 for a scaled dataset); shape() of the two is the same.
  const Tensor& stored_inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }
  // The scale a scaled dataset multiplies its stored inputs by; 0 when it serves them as they are.
  double input_scale() const { return scale_; }
  // Examples [begin, end) as a dataset sharing this one's storage (a validation split, a slice
  // for a quick run).
  TensorDataset slice(int64_t begin, int64_t end) const;

 private:
  Tensor inputs_;
  Tensor targets_;
  int64_t size_ = 0;
  double scale_ = 0.0;
};

}  // namespace dendrite::data
