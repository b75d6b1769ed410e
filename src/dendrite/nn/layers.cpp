#include "dendrite/nn/layers.h"

#include "dendrite/nn/init.h"
#include "dendrite/ops/creation.h"
#include "dendrite/ops/dropout.h"
#include "dendrite/ops/indexing.h"

namespace dendrite::nn {

Flatten::Flatten(int64_t start_axis, int64_t end_axis) : start_(start_axis), end_(end_axis) {
  // Axes of mixed sign can only be ordered once the input's rank is known.
  if ((start_axis < 0) == (end_axis < 0)) {
    DENDRITE_CHECK(start_axis <= end_axis, "Flatten: start_axis {} comes after end_axis {}", start_axis, end_axis);
  }
}

std::string Flatten::name() const {
  return start_ == 1 && end_ == -1 ? std::string("Flatten()") : fmt::format("Flatten({}, {})", start_, end_);
}

Tensor Flatten::forward(const Tensor& x) {
  const int64_t rank = x.dim();
  auto resolve = [rank](int64_t axis) { return axis < 0 ? axis + rank : axis; };
  const int64_t start = resolve(start_), end = resolve(end_);
  DENDRITE_CHECK(start >= 0 && start < rank && end >= 0 && end < rank && start <= end,
                 "{}: input {} of rank {} has no axes {}..{} to flatten", name(), dendrite::to_string(x.shape()), rank,
                 start_, end_);
  return x.flatten(start, end);
}

Dropout::Dropout(double p, Generator& gen) : p_(p), gen_(&gen) {
  DENDRITE_CHECK(p >= 0.0 && p <= 1.0, "Dropout: p must be in [0, 1], got {}", p);
}

std::string Dropout::name() const { return fmt::format("Dropout(p={})", p_); }

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p_, is_training(), *gen_); }

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim) : num_(num_embeddings), dim_(embedding_dim) {
  DENDRITE_CHECK(num_embeddings > 0, "Embedding: num_embeddings must be positive, got {}", num_embeddings);
  DENDRITE_CHECK(embedding_dim > 0, "Embedding: embedding_dim must be positive, got {}", embedding_dim);
  weight = register_parameter("weight", empty({num_, dim_}));
  reset_parameters();
}

void Embedding::reset_parameters(Generator& gen) { init::normal_(weight, 0.0, 1.0, gen); }

std::string Embedding::name() const { return fmt::format("Embedding({}, {})", num_, dim_); }

Tensor Embedding::forward(const Tensor& indices) {
  DENDRITE_CHECK(indices.dtype() == DType::i64 || indices.dtype() == DType::i32,
                 "{}: indices must be i64 or i32, got {}", name(), describe(indices));
  try {
    return embedding(weight, indices);
  } catch (const Error& e) {
    // The op names the bad index and the bound; the prefix says which table it was meant for.
    throw Error(fmt::format("{}: {}", name(), e.what()));
  }
}

}  // namespace dendrite::nn
