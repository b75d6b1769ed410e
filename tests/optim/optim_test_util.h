// The small problem the optimiser tests share, mirrored exactly by reference_values.py: two
// parameters p0 [2, 3] and p1 [4], element j of parameter i starting at cos(0.3 j + i), with the
// gradient 0.5 * p + sin(0.7 j + 1.3 k + i) at step k (p1 has none at steps 0 and 2 when `skip`).
#pragma once

#include <cmath>
#include <vector>

#include "dendrite/ops/ops.h"
#include "dendrite/optim/optim.h"
#include "dendrite/ops/ops.h"
#include "dendrite/optim/optim.h"

namespace dendrite::optim::testing {

inline nn::NamedTensors make_problem(DType dtype = DType::f64) {
  nn::NamedTensors params;
  const std::vector<Shape> shapes = {{2, 3}, {4}};
  const char* names[] = {"p0", "p1"};
  for (size_t i = 0; i < shapes.size(); ++i) {
    std::vector<double> values(static_cast<size_t>(numel(shapes[i])));
    for (size_t j = 0; j < values.size(); ++j)
      values[j] = std::cos(0.3 * static_cast<double>(j) + static_cast<double>(i));
    Tensor p = tensor<double>(values, shapes[i]).to(dtype);
    p.requires_grad_();
    params.emplace_back(names[i], p);
  }
  return params;
}

inline void set_problem_grads(const nn::NamedTensors& params, int step, bool skip = false) {
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i].second;
    if (skip && i == 1 && (step == 0 || step == 2)) {
      p.set_grad({});
      continue;
    }
    std::vector<double> g = to_vector<double>(p);
    for (size_t j = 0; j < g.size(); ++j) {
      g[j] = 0.5 * g[j] + std::sin(0.7 * static_cast<double>(j) + 1.3 * step + static_cast<double>(i));
    }
    p.set_grad(tensor<double>(g, p.shape()).to(p.dtype()));
  }
}

// Every parameter's values, flattened in order.
inline std::vector<double> flat_values(const nn::NamedTensors& params) {
  std::vector<double> out;
  for (const auto& [name, p] : params) {
    for (double v : to_vector<double>(p)) out.push_back(v);
  }
  return out;
}

}  // namespace dendrite::optim::testing
