// cpu LSTM recurrence kernels (contract in kernels/ops.h), f32. With two or more threads the whole
// time loop is one OpenMP region in which each thread owns a share of the batch's rows: it
// multiplies its rows of h by all of W_hh and runs the elementwise step on them. Rows never meet
// inside a layer, so the threads need no barrier until the loop ends. That replaces two
// fork/joins a step, whose wake-ups cost more than half of a 64 x 256 x 1024 product saves, and
// the earlier split by hidden units, whose threads waited for each other twice a step
// (docs/performance.md, "W3 at two threads").
//
// A thread's product runs on oneDNN's matmul with W_hh packed once per call into the layout the
// primitive wants (RowProducts below): sgemm packs it again on every call, which made a 32 x 256
// x 1024 product 188 us against 145 (one thread). The primitive is planned for one thread, since
// it runs inside the team's region, and takes a user-managed scratchpad, so that the threads can
// run it at once, each with its own. With one thread the loop of lstm_recurrence_loop.h runs on
// the cpu kernels, W_hh declared constant so that the matmul packs it once there too.
//
// Under MathPrecision::bf16 the team's products are bf16 too, as the serial loop's are (the matmul
// kernel's rule): W_hh is packed into bf16 once per call and each thread rounds its rows of h (of
// dgates, backward) to bf16 before its product, accumulating in f32.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dendrite/core/error.h"
#include "dendrite/core/threading.h"
#include "dendrite/kernels/constant_operand.h"
#include "dendrite/kernels/cpu/cpu.h"
#include "dendrite/kernels/cpu/loops_libmvec.h"
#include "dendrite/kernels/cpu/onednn_cache.h"
#include "dendrite/kernels/cpu/onednn_engine.h"
#include "dendrite/kernels/lstm_recurrence_loop.h"
#include "dendrite/kernels/precision.h"

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

using dnnl::memory;

constexpr int64_t kRowProductKey = 20;
constexpr int64_t kRowPackKey = 21;

// x rounded to bf16 as oneDNN's reorders round (core/dtype.h, bf16_bits).
DENDRITE_VECTOR_CLONES void round_to_bf16(const float* x, uint16_t* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = bf16_bits(x[i]);
}

// oneDNN's matmul for out[n, N] (row stride ldo) = a[n, K] @ b, b [K, N] with strides (sb_k,
// sb_n) packed into the primitive's chosen layout, for one thread. In f32, a is the caller's rows
// (row stride lda); in bf16 it is a dense bf16 copy of them that the thread makes before each
// product, and b is packed as bf16.
struct RowPlan {
  dnnl::matmul primitive;
  int64_t rows = 0;  // n
  bool bf16 = false;
  memory::desc a, b, packed, out, scratchpad;
  std::string error;  // why there is no plan (oneDNN refused, or offers only its reference loop)
};

RowPlan make_row_plan(int64_t n, int64_t K, int64_t N, int64_t lda, int64_t sb_k, int64_t sb_n, int64_t ldo,
                      bool bf16) {
  RowPlan plan;
  plan.rows = n;
  plan.bf16 = bf16;
  try {
    const memory::data_type type = bf16 ? memory::data_type::bf16 : memory::data_type::f32;
    plan.a = bf16 ? memory::desc({n, K}, type, memory::format_tag::ab) : onednn::f32_desc({n, K}, {lda, 1});
    plan.out = onednn::f32_desc({n, N}, {ldo, 1});
    plan.b = onednn::f32_desc({K, N}, {sb_k, sb_n});
    const memory::desc any({K, N}, type, memory::format_tag::any);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const dnnl::matmul::primitive_desc pd({plan.a, any, plan.out}, attr, onednn::engine());
    if (std::string(pd.impl_info_str()).starts_with("ref")) {
      plan.error = "only oneDNN's reference loop";
      return plan;
    }
    plan.packed = pd.weights_desc();
    plan.scratchpad = pd.scratchpad_desc();
    plan.primitive = dnnl::matmul(pd);
  } catch (const dnnl::error& e) {
    plan.error = e.what();
  }
  return plan;
}

onednn::PrimitiveCache<RowPlan>& row_plan_cache() {
  static onednn::PrimitiveCache<RowPlan> cache;
  return cache;
}

// The reorder of b into a plan's packed layout. Made apart from the plan, with the caller's
// threads: a reorder splits its work when it is created, and the packing runs before the team
// starts, as serial work otherwise (W3, 2 threads: 118 -> 60 ms of packing over 120 steps).
onednn::PrimitiveCache<dnnl::reorder>& pack_cache() {
  static onednn::PrimitiveCache<dnnl::reorder> cache;
  return cache;
}

// Each thread's product of its rows by one matrix b [K, N] that stays the same for the whole call:
// b is packed once (once per distinct layout, should the threads' row counts ask for two).
// Everything is made before the team starts; inside it, run() neither allocates nor throws.
class RowProducts {
 public:
  // Thread p's rows of a [B, K] (row stride lda) give its rows of out (row stride ldo), in bf16
  // under MathPrecision::bf16 where oneDNN has a bf16 kernel. nullopt when oneDNN has no plan for
  // them; the caller then runs the serial loop.
  static std::optional<RowProducts> make(int team, int64_t B, int64_t lda, const TensorBase& b, int64_t ldo) {
    const int64_t K = b.size(0), N = b.size(1);
    bool bf16 = math_precision() == MathPrecision::bf16;
    const auto key = [&](int64_t kind, int64_t n) {
      onednn::PrimitiveKey k(kind);
      k.add(n).add(K).add(N).add(lda).add(b.stride(0)).add(b.stride(1)).add(ldo).add(bf16);
      return k;
    };
    const auto plan_all = [&] {
      const ScopedThreads planned_for_one(1);  // the products run inside the team's region
      std::vector<std::shared_ptr<const RowPlan>> plans;
      for (int64_t p = 0; p < team; ++p) {
        const int64_t n = first_row(B, team, p + 1) - first_row(B, team, p);
        plans.push_back(row_plan_cache().get(
            key(kRowProductKey, n), [&] { return make_row_plan(n, K, N, lda, b.stride(0), b.stride(1), ldo, bf16); }));
        if (!plans.back()->error.empty()) return std::vector<std::shared_ptr<const RowPlan>>{};
      }
      return plans;
    };
    std::vector<std::shared_ptr<const RowPlan>> plans = plan_all();
    if (plans.empty() && bf16) {  // no bf16 kernel on this CPU: f32, as the matmul kernel falls back
      bf16 = false;
      plans = plan_all();
    }
    if (plans.empty()) return std::nullopt;
    RowProducts products;
    products.lda_ = lda;
    products.K_ = K;
    dnnl::stream& stream = onednn::stream();
    for (const auto& plan : plans) {
      Lane lane;
      lane.plan = plan;
      lane.scratch = TensorBase::empty({static_cast<int64_t>(plan->scratchpad.get_size() / sizeof(float)) + 1});
      if (bf16) lane.a16 = TensorBase::empty({plan->rows * K}, DType::bf16);
      lane.a = memory(plan->a, onednn::engine(), bf16 ? lane.a16.raw_data() : DNNL_MEMORY_NONE);
      lane.out = memory(plan->out, onednn::engine(), DNNL_MEMORY_NONE);
      lane.weights = products.packed_for(*plan, b, key(kRowPackKey, plan->rows), stream);
      lane.args = {{DNNL_ARG_SRC, lane.a},
                   {DNNL_ARG_WEIGHTS, lane.weights},
                   {DNNL_ARG_DST, lane.out},
                   {DNNL_ARG_SCRATCHPAD, memory(plan->scratchpad, onednn::engine(), lane.scratch.raw_data())}};
      products.lanes_.push_back(std::move(lane));
    }
    return products;
  }

  // out = a @ b for thread p's rows, a and out pointing at its first row; false if oneDNN failed.
  bool run(size_t p, const float* a, float* out) noexcept {
    Lane& lane = lanes_[p];
    try {
      if (lane.plan->bf16) {
        auto* a16 = static_cast<uint16_t*>(lane.a16.raw_data());
        for (int64_t r = 0; r < lane.plan->rows; ++r) round_to_bf16(a + r * lda_, a16 + r * K_, K_);
      } else {
        lane.a.set_data_handle(const_cast<float*>(a));
      }
      lane.out.set_data_handle(out);
      dnnl::stream& stream = onednn::stream();
      lane.plan->primitive.execute(stream, lane.args);
      stream.wait();
      return true;
    } catch (...) {
      return false;
    }
  }

 private:
  struct Lane {
    std::shared_ptr<const RowPlan> plan;
    TensorBase scratch, a16;  // a16: the bf16 copy of the thread's rows of a (bf16 plans)
    memory a, out, weights;
    std::unordered_map<int, memory> args;
  };

  memory packed_for(const RowPlan& plan, const TensorBase& b, const onednn::PrimitiveKey& key, dnnl::stream& stream) {
    for (const Lane& lane : lanes_) {
      if (lane.plan->packed == plan.packed) return lane.weights;
    }
    auto pack = pack_cache().get(key, [&] {
      return dnnl::reorder(dnnl::reorder::primitive_desc(onednn::engine(), plan.b, onednn::engine(), plan.packed));
    });
    packed_.push_back(TensorBase::empty({static_cast<int64_t>((plan.packed.get_size() + 3) / sizeof(float))}));
    memory to(plan.packed, onednn::engine(), packed_.back().raw_data());
    memory from(plan.b, onednn::engine(), const_cast<void*>(b.raw_data()));
    // Cached primitives keep one scratchpad each (onednn_engine.h).
    std::lock_guard run_lock(onednn::execution_lock(pack.get()));
    pack->execute(stream, from, to);
    stream.wait();
    return to;
  }

  std::vector<Lane> lanes_;
  std::vector<TensorBase> packed_;
  int64_t lda_ = 0, K_ = 0;
};

const float* floats(const TensorBase& t) { return static_cast<const float*>(t.raw_data()); }
float* floats_mut(const TensorBase& t) { return static_cast<float*>(t.raw_data()); }

void recurrence(const TensorBase& xg, const TensorBase& w_hh, std::span<const int64_t> lengths, bool reverse,
                const TensorBase& state, const TensorBase& acts, const TensorBase& h_prev, const TensorBase& c_prev) {
  const Registry& registry = Registry::global();
  const auto step = registry.find<OpId::lstm_forward>(Backend::cpu, DType::f32);
  const int64_t T = xg.size(0), B = xg.size(1), H = w_hh.size(1), G = 4 * H;
  const int team = team_size(B);
  std::optional<RowProducts> products;
  if (team > 1) {
    onednn::guarded("lstm_recurrence",
                    [&] { products = RowProducts::make(team, B, H, lstm_recurrence::transposed(w_hh), G); });
  }
  if (!products) {
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
  std::atomic<bool> product_failed{false};
#pragma omp parallel num_threads(team)
  {
    const auto p = static_cast<size_t>(omp_get_thread_num());
    const Views& v = views[p];
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = reverse ? T - 1 - s : s;
      if (!products->run(p, floats(v.h), floats_mut(v.hg))) product_failed = true;
      step(v.xg, v.hg, v.c, t, v.lengths, v.h, v.c, v.y, v.acts, v.h_prev, v.c_prev);
    }
  }
  if (product_failed) fail("lstm_recurrence: oneDNN's matmul failed on h [{}, {}] x W_hh^T", B, H);
}

void recurrence_backward(const TensorBase& acts, const TensorBase& c_prev, const TensorBase& w_hh,
                         std::span<const int64_t> lengths, bool reverse, const TensorBase& grad,
                         const TensorBase& dgates, const TensorBase& dh, const TensorBase& dc) {
  const Registry& registry = Registry::global();
  const auto step = registry.find<OpId::lstm_backward>(Backend::cpu, DType::f32);
  const auto copy = registry.find<OpId::copy>(Backend::cpu, DType::f32);
  const int64_t T = acts.size(0), B = acts.size(1), H = w_hh.size(1), G = 4 * H;
  const int team = team_size(B);
  std::optional<RowProducts> products;
  if (team > 1) onednn::guarded("lstm_recurrence_backward", [&] { products = RowProducts::make(team, B, G, w_hh, H); });
  if (!products) {
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
  std::atomic<bool> product_failed{false};
#pragma omp parallel num_threads(team)
  {
    const auto p = static_cast<size_t>(omp_get_thread_num());
    const Views& v = views[p];
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = reverse ? s : T - 1 - s;
      step(v.acts, v.c_prev, v.dh, v.dy, v.dc, t, v.lengths, v.dgates, v.dc);
      // dh of the previous state = dgates W_hh for this thread's rows; rows that passed their
      // state through keep theirs.
      const float* dg = floats(v.dgates) + t * B * G;
      if (lstm_recurrence::all_active(v.lengths, t)) {
        if (!products->run(p, dg, floats_mut(v.dh))) product_failed = true;
      } else {
        if (!products->run(p, dg, floats_mut(v.partial))) product_failed = true;
        lstm_recurrence::copy_active_rows(v.partial, v.dh, v.lengths, t);
      }
    }
  }
  if (product_failed) fail("lstm_recurrence_backward: oneDNN's matmul failed on dgates [{}, {}] x W_hh", B, G);
}

}  // namespace

void register_lstm_recurrence(Registry& registry) {
  registry.add<OpId::lstm_recurrence>(Backend::cpu, DType::f32, recurrence);
  registry.add<OpId::lstm_recurrence_backward>(Backend::cpu, DType::f32, recurrence_backward);
}

}  // namespace dendrite::kernels::cpu
