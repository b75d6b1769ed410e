#include "dendrite/data/text_batch.h"

#include <algorithm>
#include <numeric>

#include "dendrite/core/error.h"
#include "dendrite/core/random.h"
#include "dendrite/ops/creation.h"

namespace dendrite::data {
namespace {

// Fisher-Yates with our own generator, so the order is the same with every standard library.
template <typename T>
void shuffle_in_place(std::vector<T>& v, Generator& gen) {
  for (size_t i = v.size(); i > 1; --i) {
    const auto j = static_cast<size_t>(gen.next_u64() % i);
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace

SequenceBatch make_batch(std::span<const SequencePair> pairs, std::span<const int64_t> indices, SpecialIds ids) {
  DENDRITE_CHECK(!indices.empty(), "make_batch: no examples given");
  size_t src_len = 0, tgt_len = 0;
  for (int64_t i : indices) {
    DENDRITE_CHECK(i >= 0 && i < static_cast<int64_t>(pairs.size()), "make_batch: index {} is out of range [0, {})", i,
                   pairs.size());
    src_len = std::max(src_len, pairs[static_cast<size_t>(i)].source.size());
    tgt_len = std::max(tgt_len, pairs[static_cast<size_t>(i)].target.size() + 1);
  }
  const size_t b = indices.size();
  std::vector<int64_t> src(b * src_len, ids.pad), tin(b * tgt_len, ids.pad), tout(b * tgt_len, ids.pad);
  std::vector<float> mask(b * tgt_len, 0.0f);
  SequenceBatch batch;
  for (size_t r = 0; r < b; ++r) {
    const SequencePair& p = pairs[static_cast<size_t>(indices[r])];
    std::copy(p.source.begin(), p.source.end(), src.begin() + static_cast<std::ptrdiff_t>(r * src_len));
    batch.source_lengths.push_back(static_cast<int64_t>(p.source.size()));
    tin[r * tgt_len] = ids.bos;
    for (size_t t = 0; t <= p.target.size(); ++t) {
      if (t < p.target.size()) {
        tin[r * tgt_len + t + 1] = p.target[t];
        tout[r * tgt_len + t] = p.target[t];
      } else {
        tout[r * tgt_len + t] = ids.eos;
      }
      mask[r * tgt_len + t] = 1.0f;
    }
    batch.target_tokens += static_cast<int64_t>(p.target.size()) + 1;
  }
  const auto bb = static_cast<int64_t>(b), s = static_cast<int64_t>(src_len), t = static_cast<int64_t>(tgt_len);
  batch.source = tensor<int64_t>(src, {bb, s});
  batch.target_in = tensor<int64_t>(tin, {bb, t});
  batch.target_out = tensor<int64_t>(tout, {bb, t});
  batch.target_mask = tensor<float>(mask, {bb, t});
  return batch;
}

std::vector<std::vector<int64_t>> bucket_batches(std::span<const SequencePair> pairs, int64_t batch, bool shuffle,
                                                 uint64_t seed, int64_t epoch) {
  DENDRITE_CHECK(batch >= 1, "bucket_batches: batch must be >= 1, got {}", batch);
  std::vector<int64_t> order(pairs.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  Generator gen(seed * 1000003ULL + static_cast<uint64_t>(epoch));
  if (shuffle) shuffle_in_place(order, gen);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const SequencePair& x = pairs[static_cast<size_t>(a)];
    const SequencePair& y = pairs[static_cast<size_t>(b)];
    return x.source.size() != y.source.size() ? x.source.size() < y.source.size() : x.target.size() < y.target.size();
  });
  std::vector<std::vector<int64_t>> batches;
  for (size_t i = 0; i < order.size(); i += static_cast<size_t>(batch)) {
    const size_t end = std::min(order.size(), i + static_cast<size_t>(batch));
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(i),
                         order.begin() + static_cast<std::ptrdiff_t>(end));
  }
  if (shuffle) shuffle_in_place(batches, gen);
  return batches;
}

}  // namespace dendrite::data
