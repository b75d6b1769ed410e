// cpu LSTM recurrence kernels (contract in kernels/ops.h), f32. With one partition per thread the
// whole time loop is one OpenMP region: each thread multiplies h by its partition's rows of W_hh
// (single-threaded sgemm: oneDNN runs serially inside a parallel region) and runs the elementwise
// step on its own hidden units, with two barriers a step in the forward (h is complete; every
// thread has read it before it is overwritten) and one in the backward (dgates is complete; each
// thread writes only its own columns of dh and dc, which only it reads next). Per step that
// replaces two fork/joins, whose wake-ups cost more than half of a 64 x 256 x 1024 product saves
// (docs/performance.md, "W3 at two threads"). With one thread the loop of lstm_recurrence_loop.h
// runs on the cpu kernels, W_hh declared constant so that the matmul packs it once.
#include <dnnl.h>
#include <omp.h>

#include <atomic>
#include <vector>

#include "dendrite/core/error.h"
#include "dendrite/core/threading.h"
#include "dendrite/kernels/constant_operand.h"
#include "dendrite/kernels/cpu/cpu.h"
#include "dendrite/kernels/lstm_recurrence_loop.h"

namespace dendrite::kernels::cpu {

namespace {

using lstm_recurrence::share;
using lstm_recurrence::slab;

// Threads for `parts` partitions: one each, or 1 (the serial loop) when there are fewer threads
// than partitions or the caller is already inside a parallel region.
int team_size(int64_t parts) {
  if (parts <= 1 || omp_in_parallel() || parts > num_threads()) return 1;
  return static_cast<int>(parts);
}

// C[M, N] (row stride ldc) = A[M, K] @ B[K, N] with B transposed or not; row-major operands.
bool sgemm(char trans_b, int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const float* b, int64_t ldb,
           float* c, int64_t ldc) {
  return dnnl_sgemm('N', trans_b, M, N, K, 1.0f, a, lda, b, ldb, 0.0f, c, ldc) == dnnl_success;
}

const float* floats(const TensorBase& t) { return static_cast<const float*>(t.raw_data()); }
float* floats_mut(const TensorBase& t) { return static_cast<float*>(t.raw_data()); }

void recurrence(const TensorBase& xg, const TensorBase& w_hh, int64_t parts, std::span<const int64_t> lengths,
                bool reverse, const TensorBase& state, const TensorBase& acts, const TensorBase& h_prev,
                const TensorBase& c_prev) {
  const Registry& registry = Registry::global();
  const auto step = registry.find<OpId::lstm_forward>(Backend::cpu, DType::f32);
  const int team = team_size(parts);
  if (team == 1) {
    const ConstantOperand packed_once(w_hh);
    lstm_recurrence::forward_steps(registry.find<OpId::matmul>(Backend::cpu, DType::f32), step, xg, w_hh, parts,
                                   lengths, reverse, state, acts, h_prev, c_prev);
    return;
  }
  const int64_t T = xg.size(0), B = xg.size(1), H = w_hh.size(1), units = H / parts, G = 4 * H;
  const TensorBase hg = TensorBase::empty({B, G}, DType::f32);
  const TensorBase h = slab(state, T), c = slab(state, T + 1), y = lstm_recurrence::first_rows(state, T);
  // Every view is made here: nothing inside the region allocates or throws.
  struct Views {
    TensorBase xg, hg, h, c, y, acts, h_prev, c_prev;
  };
  std::vector<Views> views;
  for (int64_t p = 0; p < parts; ++p) {
    views.push_back({share(xg, 4, units, p), share(hg, 4, units, p), share(h, 1, units, p), share(c, 1, units, p),
                     share(y, 1, units, p), share(acts, 5, units, p), share(h_prev, 1, units, p),
                     share(c_prev, 1, units, p)});
  }
  std::atomic<bool> gemm_failed{false};
#pragma omp parallel num_threads(team)
  {
    const auto p = static_cast<size_t>(omp_get_thread_num());
    const Views& v = views[p];
    const float* rows = floats(w_hh) + static_cast<int64_t>(p) * 4 * units * H;
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = reverse ? T - 1 - s : s;
      if (!sgemm('T', B, 4 * units, H, floats(h), H, rows, H, floats_mut(v.hg), G)) gemm_failed = true;
#pragma omp barrier
      step(v.xg, v.hg, v.c, t, lengths, v.h, v.c, v.y, v.acts, v.h_prev, v.c_prev);
#pragma omp barrier
    }
  }
  if (gemm_failed) fail("lstm_recurrence: oneDNN sgemm failed on h [{}, {}] x W_hh rows", B, H);
}

void recurrence_backward(const TensorBase& acts, const TensorBase& c_prev, const TensorBase& w_hh, int64_t parts,
                         std::span<const int64_t> lengths, bool reverse, const TensorBase& grad,
                         const TensorBase& dgates, const TensorBase& dh, const TensorBase& dc) {
  const Registry& registry = Registry::global();
  const auto step = registry.find<OpId::lstm_backward>(Backend::cpu, DType::f32);
  const auto copy = registry.find<OpId::copy>(Backend::cpu, DType::f32);
  const int team = team_size(parts);
  if (team == 1) {
    const ConstantOperand packed_once(w_hh);
    lstm_recurrence::backward_steps(registry.find<OpId::matmul>(Backend::cpu, DType::f32), step, copy, acts, c_prev,
                                    w_hh, parts, lengths, reverse, grad, dgates, dh, dc);
    return;
  }
  const int64_t T = acts.size(0), B = acts.size(1), H = w_hh.size(1), units = H / parts, G = 4 * H;
  copy(slab(grad, T), dh);
  copy(slab(grad, T + 1), dc);
  const TensorBase dy = lstm_recurrence::first_rows(grad, T);
  const bool ragged = !lstm_recurrence::all_active(lengths, T - 1);
  const TensorBase partial = ragged ? TensorBase::empty({B, H}, DType::f32) : TensorBase();
  struct Views {
    TensorBase acts, c_prev, dh, dy, dc, dgates, partial;
  };
  std::vector<Views> views;
  for (int64_t p = 0; p < parts; ++p) {
    views.push_back({share(acts, 5, units, p), share(c_prev, 1, units, p), share(dh, 1, units, p),
                     share(dy, 1, units, p), share(dc, 1, units, p), share(dgates, 4, units, p),
                     share(partial, 1, units, p)});
  }
  std::atomic<bool> gemm_failed{false};
#pragma omp parallel num_threads(team)
  {
    const auto p = static_cast<size_t>(omp_get_thread_num());
    const Views& v = views[p];
    const float* columns = floats(w_hh) + static_cast<int64_t>(p) * units;
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = reverse ? s : T - 1 - s;
      step(v.acts, v.c_prev, v.dh, v.dy, v.dc, t, lengths, v.dgates, v.dc);
#pragma omp barrier
      // This thread's columns of dh = dgates W_hh; rows that passed their state through keep theirs.
      const float* dg = floats(dgates) + t * B * G;
      if (lstm_recurrence::all_active(lengths, t)) {
        if (!sgemm('N', B, units, G, dg, G, columns, H, floats_mut(v.dh), H)) gemm_failed = true;
      } else {
        if (!sgemm('N', B, units, G, dg, G, columns, H, floats_mut(v.partial), H)) gemm_failed = true;
        lstm_recurrence::copy_active_rows(v.partial, v.dh, lengths, t);
      }
    }
  }
  if (gemm_failed) fail("lstm_recurrence_backward: oneDNN sgemm failed on dgates [{}, {}] x W_hh", B, G);
}

}  // namespace

void register_lstm_recurrence(Registry& registry) {
  registry.add<OpId::lstm_recurrence>(Backend::cpu, DType::f32, recurrence);
  registry.add<OpId::lstm_recurrence_backward>(Backend::cpu, DType::f32, recurrence_backward);
}

}  // namespace dendrite::kernels::cpu
