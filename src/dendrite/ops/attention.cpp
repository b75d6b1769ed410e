// additive_attention_scores on the additive_scores_forward / additive_scores_backward kernels
// (kernels/ops.h). The conformance table checks it against the same scores composed from add,
// tanh and matmul (tests/ops/conformance_attention.cpp).
#include "dendrite/ops/attention.h"

#include <string>

#include "dendrite/kernels/registry.h"
#include "dendrite/ops/checks.h"
#include "dendrite/ops/creation.h"

namespace dendrite {
namespace {

using Grads = std::vector<TensorBase>;
using kernels::dispatch;
using kernels::OpId;

// A history-free handle on the same values with unit stride along the last axis (copied to dense
// only when it has not).
Tensor unit_last_stride(const TensorBase& x) {
  Tensor t(x.alias());
  return t.stride(-1) == 1 ? t : t.contiguous();
}

std::string shape_of(const Tensor& t) { return t.defined() ? to_string(t.shape()) : std::string("undefined"); }

}  // namespace

Tensor additive_attention_scores(const Tensor& keys, const Tensor& query, const Tensor& v) {
  const char* op = "additive_attention_scores";
  DENDRITE_CHECK(keys.defined() && keys.dim() == 3, "{}: keys must be [batch, source, width], got {}", op,
                 shape_of(keys));
  const int64_t batch = keys.size(0), source = keys.size(1), width = keys.size(2);
  DENDRITE_CHECK(query.defined() && query.dim() == 2 && query.size(0) == batch && query.size(1) == width,
                 "{}: query must be [{}, {}] to match keys {}, got {}", op, batch, width, to_string(keys.shape()),
                 shape_of(query));
  DENDRITE_CHECK(v.defined() && v.dim() == 1 && v.size(0) == width, "{}: v must be [{}] to match keys {}, got {}", op,
                 width, to_string(keys.shape()), shape_of(v));
  DENDRITE_CHECK(keys.dtype() == DType::f32 || keys.dtype() == DType::f64, "{}: keys must be f32 or f64, got {}", op,
                 describe(keys));
  DENDRITE_CHECK(query.dtype() == keys.dtype() && v.dtype() == keys.dtype(),
                 "{}: keys, query and v must share a dtype, got {}, {} and {}", op, describe(keys), describe(query),
                 describe(v));
  check_same_device(op, {&keys, &query, &v});

  const Tensor k = unit_last_stride(keys), q = unit_last_stride(query), w = unit_last_stride(v);
  const bool record = autograd::should_record({&keys, &query, &v});
  Tensor scores = empty({batch, source}, keys.dtype());
  Tensor hidden = record ? empty({batch, source, width}, keys.dtype()) : Tensor();
  dispatch<OpId::additive_scores_forward>(keys.dtype())(k, q, w, scores, hidden);
  if (record) {
    autograd::record(op, scores, {keys, query, v}, [hidden, w, batch, source, width](const TensorBase& g) -> Grads {
      Tensor dkeys = empty({batch, source, width}, hidden.dtype());
      Tensor dquery = empty({batch, width}, hidden.dtype()), dv = empty({width}, hidden.dtype());
      dispatch<OpId::additive_scores_backward>(hidden.dtype())(hidden, w, g, dkeys, dquery, dv);
      return {dkeys, dquery, dv};
    });
  }
  return scores;
}

}  // namespace dendrite
