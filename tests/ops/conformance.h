// The op conformance table. Every op has one or more OpCase entries; the table-driven test in
// conformance_test.cpp runs each entry
//   1. on every fast backend, comparing outputs and input gradients with the reference backend
//      (in f32, on random shapes, broadcasts and non-contiguous views);
//   2. through a finite-difference gradcheck in f64 on the reference backend.
// Adding an op is one entry in the conformance_<family>.cpp file of its family:
//
//   DENDRITE_OP_CASES(elementwise) {
//     {.name = "add_broadcast",
//      .inputs = [](CaseGen& g) { return std::vector{g.normal({3, 1}), g.normal({1, 4})}; },
//      .fn = [](const Inputs& in) { return Outputs{in[0] + in[1]}; }},
//   };
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dendrite/ops/ops.h"

namespace dendrite::testing {

using Inputs = std::vector<Tensor>;
using Outputs = std::vector<Tensor>;

// Makes the inputs of one trial. The same seed gives the same values in every dtype, so the f32
// and f64 runs see the same problem.
class CaseGen {
 public:
  CaseGen(uint64_t seed, DType dtype) : gen_(seed), dtype_(dtype) {}
  DType dtype() const { return dtype_; }

  Tensor normal(const Shape& shape, double stddev = 1.0);
  Tensor uniform(const Shape& shape, double low, double high);
  Tensor positive(const Shape& shape) { return uniform(shape, 0.5, 2.0); }
  // Values at least `gap` away from each other and from zero-crossings that matter for kinks
  // (relu, max, abs): normal values pushed out of (-gap, gap).
  Tensor away_from_zero(const Shape& shape, double gap = 0.05);
  // The same values as normal(shape), laid out non-contiguously: a transposed (last two axes)
  // view of a contiguous buffer. shape must have rank >= 2.
  Tensor transposed(const Shape& shape);
  // The same values as normal(shape) for an [N, C, H, W] shape, stored channels-last
  // (core/memory_format.h): a permuted view of an [N, H, W, C] buffer.
  Tensor channels_last(const Shape& shape);
  // Integer indices in [0, bound), not differentiable.
  Tensor indices(const Shape& shape, int64_t bound, DType dtype = DType::i64);
  // A random dimension in [low, high].
  int64_t dim(int64_t low, int64_t high);

 private:
  Generator gen_;
  DType dtype_;
};

struct OpCase {
  std::string name;
  std::function<Inputs(CaseGen&)> inputs;
  std::function<Outputs(const Inputs&)> fn;
  bool differentiable = true;
  // False for cases finite differences cannot check: too large (channel counts that select
  // oneDNN's blocked layouts) or at non-differentiable points (ties in max pooling). Their
  // gradients are still compared across backends.
  bool gradcheck = true;
  // Inputs (by position) that gradcheck must not perturb, besides integer ones (e.g. running
  // statistics that the op updates).
  std::vector<size_t> constant_inputs = {};
  // Cross-backend comparison in f32: |fast - reference| <= atol + rtol * |reference|.
  double rtol = 1e-4;
  double atol = 1e-5;
  // Finite-difference gradcheck in f64: step and tolerance (central differences).
  double gradcheck_eps = 1e-6;
  double gradcheck_tol = 1e-6;
  int trials = 3;  // random draws (shapes and values) per case
};

std::vector<OpCase>& op_cases();
// GoogleTest prints a case by its name instead of its bytes.
inline void PrintTo(const OpCase& c, std::ostream* os) { *os << c.name; }

struct RegisterOpCases {
  RegisterOpCases(std::vector<OpCase> cases);  // NOLINT: implicit so the macro reads as a list
};

}  // namespace dendrite::testing

#define DENDRITE_OP_CASES_CONCAT_(a, b) a##b
#define DENDRITE_OP_CASES(family) \
  [[maybe_unused]] static const ::dendrite::testing::RegisterOpCases DENDRITE_OP_CASES_CONCAT_(register_cases_, family) = std::vector<::dendrite::testing::OpCase>
