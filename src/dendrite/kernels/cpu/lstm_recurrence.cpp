// cpu LSTM recurrence kernels (contract in kernels/ops.h), f32. With two or more threads the whole
// time loop is one OpenMP region in which each thread owns a share of the batch's rows: it
// multiplies its rows of h by all of W_hh (single-threaded sgemm: oneDNN runs serially inside a
// parallel region) and runs the elementwise step on them. Rows never meet inside a layer, so the
// threads need no barrier until the loop ends. That replaces two fork/joins a step, whose wake-ups
// cost more than half of a 64 x 256 x 1024 product saves, and the earlier split by hidden units,
// whose threads waited for each other twice a step (docs/performance.md, "W3 at two threads").
// With one thread the loop of lstm_recurrence_loop.h runs on the cpu kernels, W_hh declared
// constant so that the matmul packs it once.
#include <dnnl.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "dendrite/core/error.h"
#include "dendrite/core/threading.h"
#include "dendrite/kernels/constant_operand.h"
#include "dendrite/kernels/cpu/cpu.h"
#include "dendrite/kernels/lstm_recurrence_loop.h"

namespace dendrite::kernels::cpu {

namespace {

using lstm_recurrence::slab;

// Rows a thread needs at least for its share of a step's product to pay for a team.
constexpr int64_t kMinRowsPerThread = 4;

// Threads for a batch of B rows: 1 (the serial loop) when the caller is already inside a parallel
// region or the batch is too small to share.
int team_size(int64_t batch) {
  if (omp_in_parallel()) return 1;
  return static_cast<int>(std::clamp<int64_t>(batch / kMinRowsPerThread, 1, num_threads()));
}

// Thread p of `team` owns rows [first(p), first(p + 1)) of the batch.
int64_t first_row(int64_t batch, int team, int64_t p) { return batch * p / team; }

// Rows [first, first + count) along `axis` of x (the batch axis: 1 of [T, B, W], 0 of [B, W]), or an
// undefined tensor for an undefined x.
TensorBase rows(const TensorBase& x, int axis, int64_t first, int64_t count) {
  if (!x.defined()) return x;
  Shape shape = x.shape();
  shape[static_cast<size_t>(axis)] = count;
  return x.as_strided(shape, x.strides(), x.offset() + first * x.stride(axis));
}

// C[M, N] (row stride ldc) = A[M, K] @ B[K, N] with B transposed or not; row-major operands.
bool sgemm(char trans_b, int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const float* b, int64_t ldb,
           float* c, int64_t ldc) {
  return dnnl_sgemm('N', trans_b, M, N, K, 1.0f, a, lda, b, ldb, 0.0f, c, ldc) == dnnl_success;
}

const float* floats(const TensorBase& t) { return static_cast<const float*>(t.raw_data()); }
float* floats_mut(const TensorBase& t) { return static_cast<float*>(t.raw_data()); }

void recurrence(const TensorBase& xg, const TensorBase& w_hh, std::span<const int64_t> lengths, bool reverse,
                const TensorBase& state, const TensorBase& acts, const TensorBase& h_prev, const TensorBase& c_prev) {
  const Registry& registry = Registry::global();
  const auto step = registry.find<OpId::lstm_forward>(Backend::cpu, DType::f32);
  const int64_t T = xg.size(0), B = xg.size(1), H = w_hh.size(1), G = 4 * H;
  const int team = team_size(B);
  if (team == 1) {
    const ConstantOperand packed_once(w_hh);
    lstm_recurrence::forward_steps(registry.find<OpId::matmul>(Backend::cpu, DType::f32), step, xg, w_hh, lengths,
                                   reverse, state, acts, h_prev, c_prev);
    return;
  }
  const TensorBase hg = TensorBase::empty({B, G}, DType::f32);
  const TensorBase h = slab(state, T), c = slab(state, T + 1), y = lstm_recurrence::first_rows(state, T);
  // Every view is made here: nothing inside the region allocates or throws.
  struct Views {
    TensorBase xg, hg, h, c, y, acts, h_prev, c_prev;
    std::span<const int64_t> lengths;
  };
  std::vector<Views> views;
  for (int64_t p = 0; p < team; ++p) {
    const int64_t first = first_row(B, team, p), n = first_row(B, team, p + 1) - first;
    views.push_back({rows(xg, 1, first, n), rows(hg, 0, first, n), rows(h, 0, first, n), rows(c, 0, first, n),
                     rows(y, 1, first, n), rows(acts, 1, first, n), rows(h_prev, 1, first, n),
                     rows(c_prev, 1, first, n), lengths.empty() ? lengths : lengths.subspan(first, n)});
  }
  std::atomic<bool> gemm_failed{false};
#pragma omp parallel num_threads(team)
  {
    const Views& v = views[static_cast<size_t>(omp_get_thread_num())];
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = reverse ? T - 1 - s : s;
      if (!sgemm('T', v.h.size(0), G, H, floats(v.h), H, floats(w_hh), H, floats_mut(v.hg), G)) gemm_failed = true;
      step(v.xg, v.hg, v.c, t, v.lengths, v.h, v.c, v.y, v.acts, v.h_prev, v.c_prev);
    }
  }
  if (gemm_failed) fail("lstm_recurrence: oneDNN sgemm failed on h [{}, {}] x W_hh", B, H);
}

void recurrence_backward(const TensorBase& acts, const TensorBase& c_prev, const TensorBase& w_hh,
                         std::span<const int64_t> lengths, bool reverse, const TensorBase& grad,
                         const TensorBase& dgates, const TensorBase& dh, const TensorBase& dc) {
  const Registry& registry = Registry::global();
  const auto step = registry.find<OpId::lstm_backward>(Backend::cpu, DType::f32);
  const auto copy = registry.find<OpId::copy>(Backend::cpu, DType::f32);
  const int64_t T = acts.size(0), B = acts.size(1), H = w_hh.size(1), G = 4 * H;
  const int team = team_size(B);
  if (team == 1) {
    const ConstantOperand packed_once(w_hh);
    lstm_recurrence::backward_steps(registry.find<OpId::matmul>(Backend::cpu, DType::f32), step, copy, acts, c_prev,
                                    w_hh, lengths, reverse, grad, dgates, dh, dc);
    return;
  }
  copy(slab(grad, T), dh);
  copy(slab(grad, T + 1), dc);
  const TensorBase dy = lstm_recurrence::first_rows(grad, T);
  const bool ragged = !lstm_recurrence::all_active(lengths, T - 1);
  const TensorBase partial = ragged ? TensorBase::empty({B, H}, DType::f32) : TensorBase();
  struct Views {
    TensorBase acts, c_prev, dh, dy, dc, dgates, partial;
    std::span<const int64_t> lengths;
  };
  std::vector<Views> views;
  for (int64_t p = 0; p < team; ++p) {
    const int64_t first = first_row(B, team, p), n = first_row(B, team, p + 1) - first;
    views.push_back({rows(acts, 1, first, n), rows(c_prev, 1, first, n), rows(dh, 0, first, n), rows(dy, 1, first, n),
                     rows(dc, 0, first, n), rows(dgates, 1, first, n), rows(partial, 0, first, n),
                     lengths.empty() ? lengths : lengths.subspan(first, n)});
  }
  std::atomic<bool> gemm_failed{false};
#pragma omp parallel num_threads(team)
  {
    const Views& v = views[static_cast<size_t>(omp_get_thread_num())];
    const int64_t n = v.dh.size(0);
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = reverse ? s : T - 1 - s;
      step(v.acts, v.c_prev, v.dh, v.dy, v.dc, t, v.lengths, v.dgates, v.dc);
      // dh of the previous state = dgates W_hh for this thread's rows; rows that passed their
      // state through keep theirs.
      const float* dg = floats(v.dgates) + t * B * G;
      if (lstm_recurrence::all_active(v.lengths, t)) {
        if (!sgemm('N', n, H, G, dg, G, floats(w_hh), H, floats_mut(v.dh), H)) gemm_failed = true;
      } else {
        if (!sgemm('N', n, H, G, dg, G, floats(w_hh), H, floats_mut(v.partial), H)) gemm_failed = true;
        lstm_recurrence::copy_active_rows(v.partial, v.dh, v.lengths, t);
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
