// cpu LSTM step kernels (contract in kernels/ops.h), f32 and f64: one `omp simd` pass over each row
// that reads the gate pre-activations once and writes h', c' and the saved activations, with the
// optional parts (the summed second half, saving) chosen once per call as template flags so the
// inner loop carries no branch. Threads split the rows, only above kParallelGrain values: a
// recurrent step is small and runs thousands of times. Formulas as in reference/lstm.cpp.
#include <algorithm>
#include <cmath>

#include "dendrite/core/threading.h"
#include "dendrite/kernels/cpu/cpu.h"
#include "dendrite/kernels/cpu/loops_gates.h"

namespace dendrite::kernels::cpu {

namespace {

// Reads p[k] (+ q[k] with kSum): the sum of two halves of a projection without a pass of its own.
template <bool kSum, typename T>
inline T load(const T* p, [[maybe_unused]] const T* q, int64_t k) {
  if constexpr (kSum) {
    return p[k] + q[k];
  } else {
    return p[k];
  }
}

// Rows of an operand at step t: row b starts at p + b * stride (null p when undefined).
template <typename T>
struct Rows {
  T* p = nullptr;
  int64_t stride = 0;
  Rows(const TensorBase& x, int64_t t) {
    if (!x.defined()) return;
    const Strides& s = x.strides();
    p = static_cast<T*>(x.storage().data()) + x.offset() + (s.size() == 3 ? t * s[0] : 0);
    stride = s[s.size() - 2];
  }
  T* operator[](int64_t b) const { return p + b * stride; }
};

template <typename T>
struct ForwardArgs {
  Rows<const T> gates, gates2, c;
  Rows<T> h, c_out, y, acts, h_prev, c_prev;
  int64_t t, batch, hidden;
  std::span<const int64_t> lengths;
};

// One row: pre-activations a (+ a2 with kSum) and the previous cell c -> h, c_out; with kSave
// also acts. c_out may be c (the update is elementwise).
template <bool kSave, bool kSum, typename T>
DENDRITE_VECTOR_CLONES void forward_row(const T* a, const T* a2, const T* c, T* h, T* c_out, T* acts, int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const T pi = load<kSum>(a, a2, j), pf = load<kSum>(a, a2, n + j);
    const T pg = load<kSum>(a, a2, 2 * n + j), po = load<kSum>(a, a2, 3 * n + j);
    const T i = sigmoid_of(pi), f = sigmoid_of(pf), g = tanh_of(pg), o = sigmoid_of(po);
    const T c_new = f * c[j] + i * g;
    const T tc = tanh_of(c_new);
    c_out[j] = c_new;
    h[j] = o * tc;
    if constexpr (kSave) {
      acts[j] = i, acts[n + j] = f, acts[2 * n + j] = g, acts[3 * n + j] = o, acts[4 * n + j] = tc;
    }
  }
}

template <bool kSave, bool kSum, typename T>
void forward_rows(const ForwardArgs<T>& s, int64_t b0, int64_t b1) {
  const int64_t n = s.hidden;
  for (int64_t b = b0; b < b1; ++b) {
    T* h = s.h[b];
    const T* c = s.c[b];
    T* c_out = s.c_out[b];
    if (s.h_prev.p != nullptr) std::copy_n(h, n, s.h_prev[b]);
    if (s.c_prev.p != nullptr) std::copy_n(c, n, s.c_prev[b]);
    if (!s.lengths.empty() && s.t >= s.lengths[static_cast<size_t>(b)]) {
      if (s.y.p != nullptr) std::fill_n(s.y[b], n, T(0));
      if (c_out != c) std::copy_n(c, n, c_out);
      continue;
    }
    const T* a = s.gates[b];
    forward_row<kSave, kSum>(a, kSum ? s.gates2[b] : a, c, h, c_out, kSave ? s.acts[b] : nullptr, n);
    if (s.y.p != nullptr) std::copy_n(h, n, s.y[b]);
  }
}

template <bool kSave, bool kSum, typename T>
void forward_parallel(const ForwardArgs<T>& s) {
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, s.hidden));
  parallel_for(0, s.batch, grain, [&s](int64_t b0, int64_t b1) { forward_rows<kSave, kSum>(s, b0, b1); });
}

template <typename T>
void forward(const TensorBase& gates, const TensorBase& gates2, const TensorBase& c, int64_t t,
             std::span<const int64_t> lengths, const TensorBase& h, const TensorBase& c_out, const TensorBase& y,
             const TensorBase& acts, const TensorBase& h_prev, const TensorBase& c_prev) {
  const ForwardArgs<T> s{{gates, t}, {gates2, t}, {c, t},      {h, t},       {c_out, t},   {y, t}, {acts, t},
                         {h_prev, t}, {c_prev, t}, t, c.size(0), c.size(1), lengths};
  const bool save = acts.defined(), sum = gates2.defined();
  if (save && sum) {
    forward_parallel<true, true>(s);
  } else if (save) {
    forward_parallel<true, false>(s);
  } else if (sum) {
    forward_parallel<false, true>(s);
  } else {
    forward_parallel<false, false>(s);
  }
}

template <typename T>
struct BackwardArgs {
  Rows<const T> acts, c_prev, dh, dh2, dc;
  Rows<T> dgates, dc_out;
  int64_t t, batch, hidden;
  std::span<const int64_t> lengths;
};

// One row: the saved acts, the previous cell c, the gradients dh (+ dh2 with kSum) of h' and dc of
// c' -> dgates (4 * hidden) and dc_out, the gradient of c. dc_out may be dc.
template <bool kSum, typename T>
DENDRITE_VECTOR_CLONES void backward_row(const T* acts, const T* c, const T* dh, const T* dh2, const T* dc, T* dgates, T* dc_out,
                  int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const T i = acts[j], f = acts[n + j], g = acts[2 * n + j], o = acts[3 * n + j], tc = acts[4 * n + j];
    const T dht = load<kSum>(dh, dh2, j);
    const T dct = dc[j] + dht * o * (T(1) - tc * tc);
    dgates[j] = dct * g * i * (T(1) - i);
    dgates[n + j] = dct * c[j] * f * (T(1) - f);
    dgates[2 * n + j] = dct * i * (T(1) - g * g);
    dgates[3 * n + j] = dht * tc * o * (T(1) - o);
    dc_out[j] = dct * f;
  }
}

template <bool kSum, typename T>
void backward_rows(const BackwardArgs<T>& s, int64_t b0, int64_t b1) {
  const int64_t n = s.hidden;
  for (int64_t b = b0; b < b1; ++b) {
    const T* dc = s.dc[b];
    T* dc_out = s.dc_out[b];
    if (!s.lengths.empty() && s.t >= s.lengths[static_cast<size_t>(b)]) {
      std::fill_n(s.dgates[b], 4 * n, T(0));
      if (dc_out != dc) std::copy_n(dc, n, dc_out);
      continue;
    }
    const T* dh = s.dh[b];
    backward_row<kSum>(s.acts[b], s.c_prev[b], dh, kSum ? s.dh2[b] : dh, dc, s.dgates[b], dc_out, n);
  }
}

template <typename T>
void backward(const TensorBase& acts, const TensorBase& c_prev, const TensorBase& dh, const TensorBase& dh2,
              const TensorBase& dc, int64_t t, std::span<const int64_t> lengths, const TensorBase& dgates,
              const TensorBase& dc_out) {
  const BackwardArgs<T> s{{acts, t},   {c_prev, t}, {dh, t},      {dh2, t},    {dc, t}, {dgates, t},
                          {dc_out, t}, t,           dc.size(0), dc.size(1), lengths};
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, s.hidden));
  if (dh2.defined()) {
    parallel_for(0, s.batch, grain, [&s](int64_t b0, int64_t b1) { backward_rows<true>(s, b0, b1); });
  } else {
    parallel_for(0, s.batch, grain, [&s](int64_t b0, int64_t b1) { backward_rows<false>(s, b0, b1); });
  }
}

}  // namespace

void register_lstm(Registry& registry) {
  registry.add<OpId::lstm_forward>(Backend::cpu, DType::f32, forward<float>);
  registry.add<OpId::lstm_forward>(Backend::cpu, DType::f64, forward<double>);
  registry.add<OpId::lstm_backward>(Backend::cpu, DType::f32, backward<float>);
  registry.add<OpId::lstm_backward>(Backend::cpu, DType::f64, backward<double>);
}

}  // namespace dendrite::kernels::cpu
