// One LSTM layer's training pass (forward, then backward to the input and every weight) two ways,
// at W3's shape and at g2p-lstm's encoder shape (one direction):
//   dendrite  nn::LSTM: the lstm_layer op (one GEMM for all steps' input projections, the
//             recurrence in kernels::lstm_recurrence, weight gradients as one GEMM each)
//   onednn    oneDNN's own RNN primitive (lstm_forward / lstm_backward, forward_training with its
//             workspace), as a framework built on it would call it: the layer's weights are
//             reordered from the [4H, I] layout (ldgoi) into the primitive's chosen layouts at every
//             step, since training changes them every step, and the weight gradients back; the
//             two biases are summed into oneDNN's one.
// Issue 5 asked whether oneDNN's RNN primitive fits; this measures it. Arguments: T, B, I, H,
// threads.
//
//   ./lstm_bench [--benchmark_repetitions=5 --benchmark_enable_random_interleaving=true]
#include <benchmark/benchmark.h>

#include <dnnl.hpp>
#include <unordered_map>

#include "dendrite/dendrite.h"
#include "dendrite/nn/rnn.h"

namespace dd = dendrite;

namespace {

struct Shape {
  int64_t T, B, I, H, threads;
  static Shape of(const benchmark::State& s) { return {s.range(0), s.range(1), s.range(2), s.range(3), s.range(4)}; }
};

void BM_dendrite(benchmark::State& state) {
  const Shape s = Shape::of(state);
  dd::ScopedThreads threads(static_cast<int>(s.threads));
  dd::Generator gen(1);
  dd::nn::LSTM lstm(s.I, s.H, {}, gen);
  dd::Tensor x = dd::randn({s.T, s.B, s.I}, dd::DType::f32, gen).requires_grad_();
  const dd::Tensor dy = dd::randn({s.T, s.B, s.H}, dd::DType::f32, gen);
  for (auto _ : state) {
    lstm.zero_grad();
    x.set_grad({});
    dd::sum(lstm(x) * dy).backward();
  }
  state.SetItemsProcessed(state.iterations() * s.B);
}

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// The primitive pair and every buffer one training pass touches, made once per shape.
struct OnednnLstm {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::lstm_forward::primitive_desc fwd_pd;
  dnnl::lstm_backward::primitive_desc bwd_pd;
  dnnl::lstm_forward fwd;
  dnnl::lstm_backward bwd;
  // Plain (the framework's layout) and primitive-layout copies.
  memory w_ih, w_hh, b_ih, b_hh, bias, fwd_w_ih, fwd_w_hh, bwd_w_ih, bwd_w_hh;
  memory x, y, h_n, c_n, workspace;
  memory dx, dy, dh_n, dc_n, dw_ih_prim, dw_hh_prim, dw_ih, dw_hh, dbias;

  explicit OnednnLstm(const Shape& s) {
    const memory::dims x_dims{s.T, s.B, s.I}, y_dims{s.T, s.B, s.H}, state_dims{1, 1, s.B, s.H};
    const memory::dims wl_dims{1, 1, s.I, 4, s.H}, wi_dims{1, 1, s.H, 4, s.H}, b_dims{1, 1, 4, s.H};
    const memory::desc x_md(x_dims, dt::f32, tag::tnc), y_md(y_dims, dt::f32, tag::tnc);
    const memory::desc state_md(state_dims, dt::f32, tag::ldnc), b_md(b_dims, dt::f32, tag::ldgo);
    const memory::desc wl_any(wl_dims, dt::f32, tag::any), wi_any(wi_dims, dt::f32, tag::any);
    const auto dir = dnnl::rnn_direction::unidirectional_left2right;
    // Zero initial state (an empty descriptor), the final state kept, as an encoder needs it.
    const memory::desc zero;
    const dnnl::lstm_forward::desc fwd_desc(dnnl::prop_kind::forward_training, dir, x_md, zero, zero, wl_any, wi_any,
                                            b_md, y_md, state_md, state_md);
    // The forward's descriptors, then their gradients'.
    const dnnl::lstm_backward::desc bwd_desc(dnnl::prop_kind::backward, dir, x_md, zero, zero, wl_any, wi_any, b_md,
                                             y_md, state_md, state_md, x_md, zero, zero, wl_any, wi_any, b_md, y_md,
                                             state_md, state_md);
    fwd_pd = dnnl::lstm_forward::primitive_desc(fwd_desc, engine);
    bwd_pd = dnnl::lstm_backward::primitive_desc(bwd_desc, engine, fwd_pd);
    fwd = dnnl::lstm_forward(fwd_pd);
    bwd = dnnl::lstm_backward(bwd_pd);

    const memory::desc wl_plain(wl_dims, dt::f32, tag::ldgoi), wi_plain(wi_dims, dt::f32, tag::ldgoi);
    auto make = [&](const memory::desc& md) { return memory(md, engine); };
    w_ih = make(wl_plain), w_hh = make(wi_plain), b_ih = make(b_md), b_hh = make(b_md), bias = make(b_md);
    fwd_w_ih = make(fwd_pd.weights_layer_desc()), fwd_w_hh = make(fwd_pd.weights_iter_desc());
    bwd_w_ih = make(bwd_pd.weights_layer_desc()), bwd_w_hh = make(bwd_pd.weights_iter_desc());
    x = make(x_md), y = make(y_md), h_n = make(state_md), c_n = make(state_md);
    workspace = make(fwd_pd.workspace_desc());
    dx = make(x_md), dy = make(y_md), dh_n = make(state_md), dc_n = make(state_md);
    dw_ih_prim = make(bwd_pd.diff_weights_layer_desc()), dw_hh_prim = make(bwd_pd.diff_weights_iter_desc());
    dw_ih = make(wl_plain), dw_hh = make(wi_plain), dbias = make(b_md);
    dd::Generator gen(1);
    for (memory* m : {&w_ih, &w_hh, &b_ih, &b_hh, &x, &dy}) {
      auto* p = static_cast<float*>(m->get_data_handle());
      const size_t n = m->get_desc().get_size() / sizeof(float);
      const dd::Tensor r = dd::randn({static_cast<int64_t>(n)}, dd::DType::f32, gen);
      std::copy_n(static_cast<const float*>(r.raw_data()), n, p);
    }
    for (memory* m : {&dh_n, &dc_n}) std::fill_n(static_cast<float*>(m->get_data_handle()), s.B * s.H, 0.0f);
  }

  void reorder(memory& from, memory& to) { dnnl::reorder(from, to).execute(stream, from, to); }

  void train_step(int64_t gates_h) {
    auto* b = static_cast<float*>(bias.get_data_handle());
    const auto* bi = static_cast<const float*>(b_ih.get_data_handle());
    const auto* bh = static_cast<const float*>(b_hh.get_data_handle());
    for (int64_t i = 0; i < gates_h; ++i) b[i] = bi[i] + bh[i];
    reorder(w_ih, fwd_w_ih);
    reorder(w_hh, fwd_w_hh);
    fwd.execute(stream, {{DNNL_ARG_SRC_LAYER, x},
                         {DNNL_ARG_WEIGHTS_LAYER, fwd_w_ih},
                         {DNNL_ARG_WEIGHTS_ITER, fwd_w_hh},
                         {DNNL_ARG_BIAS, bias},
                         {DNNL_ARG_DST_LAYER, y},
                         {DNNL_ARG_DST_ITER, h_n},
                         {DNNL_ARG_DST_ITER_C, c_n},
                         {DNNL_ARG_WORKSPACE, workspace}});
    reorder(w_ih, bwd_w_ih);
    reorder(w_hh, bwd_w_hh);
    // oneDNN accumulates into the weight gradients: zero them as a fresh step would.
    for (memory* m : {&dw_ih_prim, &dw_hh_prim, &dbias})
      std::fill_n(static_cast<float*>(m->get_data_handle()), m->get_desc().get_size() / sizeof(float), 0.0f);
    bwd.execute(stream, {{DNNL_ARG_SRC_LAYER, x},
                         {DNNL_ARG_WEIGHTS_LAYER, bwd_w_ih},
                         {DNNL_ARG_WEIGHTS_ITER, bwd_w_hh},
                         {DNNL_ARG_BIAS, bias},
                         {DNNL_ARG_DST_LAYER, y},
                         {DNNL_ARG_DST_ITER, h_n},
                         {DNNL_ARG_DST_ITER_C, c_n},
                         {DNNL_ARG_DIFF_SRC_LAYER, dx},
                         {DNNL_ARG_DIFF_WEIGHTS_LAYER, dw_ih_prim},
                         {DNNL_ARG_DIFF_WEIGHTS_ITER, dw_hh_prim},
                         {DNNL_ARG_DIFF_BIAS, dbias},
                         {DNNL_ARG_DIFF_DST_LAYER, dy},
                         {DNNL_ARG_DIFF_DST_ITER, dh_n},
                         {DNNL_ARG_DIFF_DST_ITER_C, dc_n},
                         {DNNL_ARG_WORKSPACE, workspace}});
    reorder(dw_ih_prim, dw_ih);
    reorder(dw_hh_prim, dw_hh);
    stream.wait();
  }
};

void BM_onednn(benchmark::State& state) {
  const Shape s = Shape::of(state);
  dd::ScopedThreads threads(static_cast<int>(s.threads));
  OnednnLstm lstm(s);
  for (auto _ : state) lstm.train_step(4 * s.H);
  state.SetItemsProcessed(state.iterations() * s.B);
  state.SetLabel(std::string(lstm.fwd_pd.impl_info_str()) + " / " + lstm.bwd_pd.impl_info_str());
}

// W3 (T 12, B 64, I 64, H 256) and g2p-lstm's encoder, one direction (T 10, B 128, I 64, H 192).
void shapes(benchmark::internal::Benchmark* b) {
  for (int64_t threads : {1, 2}) {
    b->Args({12, 64, 64, 256, threads});
    b->Args({10, 128, 64, 192, threads});
  }
  b->ArgNames({"T", "B", "I", "H", "threads"})->Unit(benchmark::kMicrosecond)->UseRealTime();
}

BENCHMARK(BM_dendrite)->Apply(shapes);
BENCHMARK(BM_onednn)->Apply(shapes);

}  // namespace

BENCHMARK_MAIN();
