// Small layers without a family of their own: Identity, Flatten, Dropout, Embedding.
#pragma once

#include "dendrite/core/random.h"
#include "dendrite/nn/module.h"

namespace dendrite::nn {

// Returns its input: a placeholder where a layer is optional (e.g. a skipped projection).
class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string name() const override { return "Identity()"; }
};

// Merges axes start..end into one (a view when possible): Flatten() turns [N, C, H, W] into
// [N, C*H*W] between convolutional and linear layers.
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_axis = 1, int64_t end_axis = -1);
  Tensor forward(const Tensor& x) override;
  std::string name() const override;

 private:
  int64_t start_;
  int64_t end_;
};

// Zeroes each element with probability p in training and scales the rest by 1 / (1 - p); the
// identity in evaluation. Draws from `gen`, which must outlive the layer (the default generator
// by default, so manual_seed makes a run reproducible).
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;
  std::string name() const override;
  double p() const { return p_; }

 private:
  double p_;
  Generator* gen_;
};

// A lookup table of `num_embeddings` vectors of `embedding_dim`: integer indices of any shape
// -> [*indices.shape, embedding_dim]. Initialised N(0, 1), as in PyTorch.
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim);
  void reset_parameters(Generator& gen = default_generator());
  Tensor forward(const Tensor& indices) override;
  std::string name() const override;

  int64_t num_embeddings() const { return num_; }
  int64_t embedding_dim() const { return dim_; }

  Tensor weight;  // [num_embeddings, embedding_dim]

 private:
  int64_t num_;
  int64_t dim_;
};

}  // namespace dendrite::nn
