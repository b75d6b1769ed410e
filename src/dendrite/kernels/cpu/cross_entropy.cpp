// cpu cross-entropy kernels (contract in kernels/ops.h), f32: each row's log-softmax, loss and
// gradient in float, the exponentials vectorised (libmvec, loops_libmvec.h) and the rows split
// across threads. The reference kernels, which ran here before, compute in double with the scalar
// exp, one row after another: 1.2% of a W3 step at one thread, all of it serial at two
// (docs/performance.md, "Rows instead of hidden units"). Rows whose classes are not contiguous
// go to the reference kernels.
#include <algorithm>
#include <cmath>
#include <limits>

#include "dendrite/core/threading.h"
#include "dendrite/kernels/cpu/cpu.h"
#include "dendrite/kernels/cpu/loops_libmvec.h"

namespace dendrite::kernels::cpu {

namespace {

// lp = log_softmax(x) over one row of c values; returns the sum of lp (for label smoothing). The
// maximum is subtracted first so that large logits cannot overflow.
DENDRITE_VECTOR_CLONES float log_softmax_row(const float* x, float* lp, int64_t c) {
  float max = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : max)
  for (int64_t j = 0; j < c; ++j) max = std::max(max, x[j]);
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < c; ++j) sum += std::exp(x[j] - max);
  const float log_sum = max + std::log(sum);
  float total = 0.0f;
#pragma omp simd reduction(+ : total)
  for (int64_t j = 0; j < c; ++j) {
    lp[j] = x[j] - log_sum;
    total += lp[j];
  }
  return total;
}

// g = gloss * (exp(lp) - uniform) over one row; the label's entry is corrected by the caller.
DENDRITE_VECTOR_CLONES void gradient_row(const float* lp, float gloss, float uniform, float* g, int64_t c) {
#pragma omp simd
  for (int64_t j = 0; j < c; ++j) g[j] = gloss * (std::exp(lp[j]) - uniform);
}

bool rows_dense(const TensorBase& t) { return t.stride(1) == 1 || t.size(1) == 1; }

const float* floats(const TensorBase& t) { return static_cast<const float*>(t.raw_data()); }
float* floats_mut(const TensorBase& t) { return static_cast<float*>(t.raw_data()); }
const int64_t* indices(const TensorBase& t) { return static_cast<const int64_t*>(t.raw_data()); }

// Rows per chunk of parallel work: about kParallelGrain values.
int64_t row_grain(int64_t classes) { return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, classes)); }

void cross_entropy_forward(const TensorBase& logits, const TensorBase& labels, double label_smoothing,
                           const TensorBase& loss, const TensorBase& log_probs) {
  if (!rows_dense(logits) || !rows_dense(log_probs)) {
    return Registry::global().find<OpId::cross_entropy_forward>(Backend::reference, DType::f32)(
        logits, labels, label_smoothing, loss, log_probs);
  }
  const int64_t N = logits.size(0), C = logits.size(1);
  const float* x = floats(logits);
  float* lp = floats_mut(log_probs);
  float* out = floats_mut(loss);
  const int64_t* label = indices(labels);
  const int64_t xs = logits.stride(0), ls = log_probs.stride(0), os = loss.stride(0), ys = labels.stride(0);
  const auto s = static_cast<float>(label_smoothing), smooth = s / static_cast<float>(C);
  parallel_for(0, N, row_grain(C), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      float* row = lp + n * ls;
      const float total = log_softmax_row(x + n * xs, row, C);
      out[n * os] = -(1.0f - s) * row[label[n * ys]] - smooth * total;
    }
  });
}

// glogits[n, c] = gloss[n] * (softmax[n, c] - target[n, c]), target = (1 - s) * onehot + s / C.
void cross_entropy_backward(const TensorBase& log_probs, const TensorBase& labels, const TensorBase& gloss,
                            double label_smoothing, const TensorBase& glogits) {
  if (!rows_dense(log_probs) || !rows_dense(glogits)) {
    return Registry::global().find<OpId::cross_entropy_backward>(Backend::reference, DType::f32)(
        log_probs, labels, gloss, label_smoothing, glogits);
  }
  const int64_t N = log_probs.size(0), C = log_probs.size(1);
  const float* lp = floats(log_probs);
  const float* g = floats(gloss);
  float* gx = floats_mut(glogits);
  const int64_t* label = indices(labels);
  const int64_t ls = log_probs.stride(0), gs = gloss.stride(0), xs = glogits.stride(0), ys = labels.stride(0);
  const auto s = static_cast<float>(label_smoothing), uniform = s / static_cast<float>(C);
  parallel_for(0, N, row_grain(C), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      float* row = gx + n * xs;
      gradient_row(lp + n * ls, g[n * gs], uniform, row, C);
      row[label[n * ys]] -= g[n * gs] * (1.0f - s);
    }
  });
}

}  // namespace

void register_cross_entropy(Registry& registry) {
  registry.add<OpId::cross_entropy_forward>(Backend::cpu, DType::f32, cross_entropy_forward);
  registry.add<OpId::cross_entropy_backward>(Backend::cpu, DType::f32, cross_entropy_backward);
}

}  // namespace dendrite::kernels::cpu
