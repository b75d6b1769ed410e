// Reference kernels of additive attention's scores (contract and formulas in kernels/ops.h), in
// double, element by element, following every operand's strides:
//   scores[b, s] = sum_a v[a] tanh(keys[b, s, a] + query[b, a])          (Bahdanau et al. 2015)
// and, by the chain rule with h = tanh(keys + query) and d tanh(u)/du = 1 - tanh(u)^2:
//   dkeys[b, s, a] = g[b, s] v[a] (1 - h^2),  dquery[b, a] = sum_s dkeys[b, s, a],
//   dv[a] = sum_{b, s} g[b, s] h[b, s, a]
#include <cmath>
#include <vector>

#include "dendrite/kernels/reference/reference.h"

namespace dendrite::kernels::reference {

namespace {

template <typename D>
D& at(const TensorBase& x, std::initializer_list<int64_t> index) {
  int64_t offset = x.offset(), axis = 0;
  for (int64_t i : index) offset += i * x.stride(axis++);
  return static_cast<D*>(x.storage().data())[offset];
}

template <typename D>
double value(const TensorBase& x, std::initializer_list<int64_t> index) {
  return convert<double>(at<D>(x, index));
}

template <typename D>
void forward_typed(const TensorBase& keys, const TensorBase& query, const TensorBase& v, const TensorBase& scores,
                   const TensorBase& hidden) {
  const int64_t batch = keys.size(0), source = keys.size(1), width = keys.size(2);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t s = 0; s < source; ++s) {
      double sum = 0.0;
      for (int64_t a = 0; a < width; ++a) {
        const double h = std::tanh(value<D>(keys, {b, s, a}) + value<D>(query, {b, a}));
        if (hidden.defined()) at<D>(hidden, {b, s, a}) = convert<D>(h);
        sum += value<D>(v, {a}) * h;
      }
      at<D>(scores, {b, s}) = convert<D>(sum);
    }
  }
}

template <typename D>
void backward_typed(const TensorBase& hidden, const TensorBase& v, const TensorBase& grad, const TensorBase& dkeys,
                    const TensorBase& dquery, const TensorBase& dv) {
  const int64_t batch = hidden.size(0), source = hidden.size(1), width = hidden.size(2);
  std::vector<double> dv_sum(static_cast<size_t>(width), 0.0);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t a = 0; a < width; ++a) {
      double dq = 0.0;
      for (int64_t s = 0; s < source; ++s) {
        const double h = value<D>(hidden, {b, s, a}), g = value<D>(grad, {b, s});
        const double dpre = g * value<D>(v, {a}) * (1.0 - h * h);
        at<D>(dkeys, {b, s, a}) = convert<D>(dpre);
        dq += dpre;
        dv_sum[static_cast<size_t>(a)] += g * h;
      }
      at<D>(dquery, {b, a}) = convert<D>(dq);
    }
  }
  for (int64_t a = 0; a < width; ++a) at<D>(dv, {a}) = convert<D>(dv_sum[static_cast<size_t>(a)]);
}

void forward(const TensorBase& keys, const TensorBase& query, const TensorBase& v, const TensorBase& scores,
             const TensorBase& hidden) {
  visit_dtype(keys.dtype(), [&](auto tag) { forward_typed<decltype(tag)>(keys, query, v, scores, hidden); });
}

void backward(const TensorBase& hidden, const TensorBase& v, const TensorBase& grad, const TensorBase& dkeys,
              const TensorBase& dquery, const TensorBase& dv) {
  visit_dtype(hidden.dtype(), [&](auto tag) { backward_typed<decltype(tag)>(hidden, v, grad, dkeys, dquery, dv); });
}

}  // namespace

void register_attention(Registry& registry) {
  auto floating = {DType::f32, DType::f64, DType::bf16, DType::f16};
  registry.add<OpId::additive_scores_forward>(Backend::reference, floating, forward);
  registry.add<OpId::additive_scores_backward>(Backend::reference, floating, backward);
}

}  // namespace dendrite::kernels::reference
