// The oneDNN kernels of the cpu backend against the reference backend, called straight through
// the registry on random inputs: strided and broadcast operands, every conv parameter, pooling
// with ties, softmax along every axis. A kernel whose reference is not registered is skipped.
#include <gtest/gtest.h>

#include <cmath>
#include <string_view>
#include <thread>
#include <vector>

#include "dendrite/core/random.h"
#include "dendrite/core/threading.h"
#include "dendrite/kernels/registry.h"
#include "support/tensors.h"

namespace dendrite::kernels {
namespace {

using test_support::at;
using test_support::randn;

template <OpId Op>
auto kernel(Backend backend) {
  return Registry::global().find<Op>(backend, DType::f32);
}

template <OpId Op>
bool have_both() {
  return kernel<Op>(Backend::reference) != nullptr && kernel<Op>(Backend::cpu) != nullptr;
}

#define SKIP_WITHOUT(op) \
  if (!have_both<op>()) GTEST_SKIP() << KernelTraits<op>::name << ": no reference or cpu kernel yet"

// A [rows, cols] view whose storage is [cols, rows]: a transposed operand.
TensorBase transposed(int64_t rows, int64_t cols, Generator& gen) {
  return randn({cols, rows}, gen).as_strided({rows, cols}, {1, rows}, 0);
}

// Both outputs are dense (the kernel contract), so they compare element by element.
void expect_close(const TensorBase& got, const TensorBase& want, double tol = 2e-4) {
  ASSERT_EQ(got.shape(), want.shape());
  int64_t bad = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    const double g = at(got, i), w = at(want, i);
    if (!(std::abs(g - w) <= tol * (1.0 + std::abs(w)))) {
      if (++bad <= 5) ADD_FAILURE() << "element " << i << ": cpu " << g << ", reference " << w;
    }
  }
  EXPECT_EQ(bad, 0) << "of " << want.numel() << " elements in " << to_string(want.shape());
}

// Runs Op's cpu and reference kernels on the same inputs, each into a fresh output of shape `out`
// (a kernel's output is its last argument), and compares the two. Returns the reference's output,
// which a backward kernel takes as an input.
template <OpId Op, typename... Inputs>
TensorBase expect_backends_agree(const Shape& out, const Inputs&... inputs) {
  TensorBase got = TensorBase::empty(out), want = TensorBase::empty(out);
  kernel<Op>(Backend::cpu)(inputs..., got);
  kernel<Op>(Backend::reference)(inputs..., want);
  expect_close(got, want);
  return want;
}

// ---- matmul ----

void check_matmul(const TensorBase& a, const TensorBase& b, const TensorBase& bias = {}) {
  Shape shape = a.shape();
  shape.back() = b.shape().back();
  expect_backends_agree<OpId::matmul>(shape, a, b, bias);
}

TEST(CpuOnednnMatmul, Plain2dWithAndWithoutBias) {
  SKIP_WITHOUT(OpId::matmul);
  Generator gen(1);
  TensorBase a = randn({37, 53}, gen), b = randn({53, 29}, gen);
  check_matmul(a, b);
  check_matmul(a, b, randn({29}, gen));
}

TEST(CpuOnednnMatmul, TransposedOperandsAndStridedBias) {
  SKIP_WITHOUT(OpId::matmul);
  Generator gen(2);
  TensorBase a = randn({19, 31}, gen), b = randn({31, 23}, gen);
  TensorBase at = transposed(19, 31, gen), bt = transposed(31, 23, gen);
  TensorBase bias = randn({23, 3}, gen).as_strided({23}, {3}, 1);  // a column: stride 3
  check_matmul(at, b);
  check_matmul(a, bt);
  check_matmul(at, bt, bias);
}

// A handful of rows goes to sgemm rather than the matmul primitive (kernels/cpu/matmul.cpp): every
// orientation of both operands, leading dimensions wider than the matrix, with and without bias,
// on both sides of the row threshold.
TEST(CpuOnednnMatmul, FewRowsThroughSgemm) {
  SKIP_WITHOUT(OpId::matmul);
  Generator gen(7);
  const int64_t K = 37, N = 29;
  for (int64_t M : {1, 2, 3, 4, 5}) {
    SCOPED_TRACE("rows " + std::to_string(M));
    TensorBase bias = randn({N}, gen);
    TensorBase a = randn({M, K}, gen), b = randn({K, N}, gen);
    TensorBase at = transposed(M, K, gen), bt = transposed(K, N, gen);
    // Row-major views into wider rows: leading dimensions K + 3 and N + 5.
    TensorBase a_wide = randn({M, K + 3}, gen).as_strided({M, K}, {K + 3, 1}, 0);
    TensorBase b_wide = randn({K, N + 5}, gen).as_strided({K, N}, {N + 5, 1}, 2);
    for (const TensorBase* x : {&a, &at, &a_wide})
      for (const TensorBase* y : {&b, &bt, &b_wide}) {
        check_matmul(*x, *y);
        check_matmul(*x, *y, bias);
      }
  }
}

TEST(CpuOnednnMatmul, NonUnitInnerStridesFallBackToDenseCopies) {
  SKIP_WITHOUT(OpId::matmul);
  Generator gen(3);
  // Every other column: neither axis has stride 1.
  TensorBase a = randn({12, 34}, gen).as_strided({12, 17}, {34, 2}, 0);
  TensorBase b = randn({17, 20}, gen).as_strided({17, 10}, {20, 2}, 1);
  check_matmul(a, b, randn({10}, gen));
}

TEST(CpuOnednnMatmul, VectorsAndSingleRows) {
  SKIP_WITHOUT(OpId::matmul);
  Generator gen(4);
  check_matmul(randn({1, 40}, gen), randn({40, 9}, gen));
  check_matmul(randn({9, 40}, gen), randn({40, 1}, gen));
  check_matmul(randn({1, 40}, gen), randn({40, 1}, gen), randn({1}, gen));
  check_matmul(transposed(1, 40, gen), transposed(40, 1, gen));
}

TEST(CpuOnednnMatmul, EmptyInnerDimensionGivesTheBias) {
  SKIP_WITHOUT(OpId::matmul);
  Generator gen(5);
  check_matmul(TensorBase::empty({4, 0}), TensorBase::empty({0, 6}), randn({6}, gen));
  check_matmul(TensorBase::empty({4, 0}), TensorBase::empty({0, 6}));
}

TEST(CpuOnednnMatmul, Batched) {
  SKIP_WITHOUT(OpId::matmul);
  Generator gen(6);
  check_matmul(randn({4, 17, 23}, gen), randn({4, 23, 11}, gen));
  // Each batch of b transposed.
  TensorBase bt = randn({4, 11, 23}, gen).as_strided({4, 23, 11}, {253, 1, 23}, 0);
  check_matmul(randn({4, 17, 23}, gen), bt, randn({11}, gen));
  // The batch axis is not the outermost one in memory: storage [M, B, K] seen as [B, M, K].
  TensorBase a = randn({17, 4, 23}, gen).as_strided({4, 17, 23}, {23, 92, 1}, 0);
  check_matmul(a, randn({4, 23, 11}, gen));
  // Two batch axes that merge, and two that do not.
  check_matmul(randn({2, 3, 5, 7}, gen), randn({2, 3, 7, 6}, gen));
  TensorBase a4 = randn({3, 2, 5, 7}, gen).as_strided({2, 3, 5, 7}, {35, 70, 7, 1}, 0);
  check_matmul(a4, randn({2, 3, 7, 6}, gen));
}

TEST(CpuOnednnMatmul, BroadcastBatchAxes) {
  SKIP_WITHOUT(OpId::matmul);
  Generator gen(7);
  // a is shared by every batch (stride 0), as matmul_nd passes a broadcast operand.
  TensorBase a = randn({9, 13}, gen).as_strided({5, 9, 13}, {0, 13, 1}, 0);
  check_matmul(a, randn({5, 13, 8}, gen));
  TensorBase b = randn({13, 8}, gen).as_strided({5, 13, 8}, {0, 8, 1}, 0);
  check_matmul(randn({5, 9, 13}, gen), b, randn({8}, gen));
  // [2, 3] batches: a broadcast along the first axis, b along the second.
  TensorBase a4 = randn({3, 9, 13}, gen).as_strided({2, 3, 9, 13}, {0, 117, 13, 1}, 0);
  TensorBase b4 = randn({2, 13, 8}, gen).as_strided({2, 3, 13, 8}, {104, 0, 8, 1}, 0);
  check_matmul(a4, b4);
}

TEST(CpuOnednnMatmul, SameShapesAgainAndAnotherThreadCount) {
  SKIP_WITHOUT(OpId::matmul);
  Generator gen(8);
  const int threads = num_threads();
  TensorBase a = randn({64, 96}, gen), b = transposed(96, 48, gen);
  check_matmul(a, b);
  check_matmul(a, b);  // served from the primitive cache
  set_num_threads(1);
  check_matmul(a, b);
  set_num_threads(threads);
}

TEST(CpuOnednnMatmul, ConcurrentCallers) {
  SKIP_WITHOUT(OpId::matmul);
  // Threads share the primitive cache and each drive their own stream.
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      Generator gen(100 + static_cast<uint64_t>(t));
      const int64_t m = 8 + t % 2;  // two threads per shape: same cache keys, raced
      TensorBase a = randn({m, 16}, gen), b = randn({16, 12}, gen);
      TensorBase want = TensorBase::empty({m, 12});
      kernel<OpId::matmul>(Backend::reference)(a, b, {}, want);
      for (int rep = 0; rep < 20; ++rep) {
        TensorBase got = TensorBase::empty({m, 12});
        kernel<OpId::matmul>(Backend::cpu)(a, b, {}, got);
        for (int64_t i = 0; i < got.numel(); ++i) {
          if (std::abs(at(got, i) - at(want, i)) > 1e-4f * (1.0f + std::abs(at(want, i)))) ++failures[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

// ---- conv2d ----

struct ConvCase {
  Shape x;  // [N, C, H, W]
  int64_t out_channels;
  std::array<int64_t, 2> kernel;
  Conv2dParams p;
};

Shape conv_output(const ConvCase& c) {
  Shape y{c.x[0], c.out_channels, 0, 0};
  for (size_t i = 0; i < 2; ++i) {
    y[2 + i] = (c.x[2 + i] + 2 * c.p.padding[i] - c.p.dilation[i] * (c.kernel[i] - 1) - 1) / c.p.stride[i] + 1;
  }
  return y;
}

std::vector<ConvCase> conv_cases() {
  return {
      {{2, 3, 9, 9}, 4, {3, 3}, {}},
      {{2, 3, 10, 11}, 5, {3, 3}, {.stride = {2, 2}, .padding = {1, 1}}},
      {{1, 4, 12, 12}, 6, {3, 3}, {.padding = {2, 2}, .dilation = {2, 2}}},
      {{2, 4, 8, 8}, 6, {3, 3}, {.padding = {1, 1}, .groups = 2}},
      {{2, 6, 7, 7}, 6, {3, 3}, {.padding = {1, 1}, .groups = 6}},  // depthwise
      {{1, 3, 9, 8}, 4, {3, 2}, {.stride = {2, 1}, .padding = {1, 0}, .dilation = {1, 2}}},
      {{1, 2, 8, 8}, 3, {3, 3}, {.stride = {2, 2}}},  // the last row and column fall outside every window
      {{1, 2, 5, 5}, 3, {1, 1}, {}},
  };
}

std::string describe(const ConvCase& c) {
  return fmt::format("x {} O {} k {} stride {} pad {} dil {} groups {}", to_string(c.x), c.out_channels,
                     fmt::join(c.kernel, "x"), fmt::join(c.p.stride, ","), fmt::join(c.p.padding, ","),
                     fmt::join(c.p.dilation, ","), c.p.groups);
}

TEST(CpuOnednnConv, ForwardWithAndWithoutBias) {
  SKIP_WITHOUT(OpId::conv2d_forward);
  Generator gen(10);
  for (const ConvCase& c : conv_cases()) {
    SCOPED_TRACE(describe(c));
    TensorBase x = randn(c.x, gen), w = randn({c.out_channels, c.x[1] / c.p.groups, c.kernel[0], c.kernel[1]}, gen);
    for (bool with_bias : {false, true}) {
      TensorBase bias = with_bias ? randn({c.out_channels}, gen) : TensorBase();
      expect_backends_agree<OpId::conv2d_forward>(conv_output(c), x, w, bias, c.p);
    }
  }
}

TEST(CpuOnednnConv, BackwardData) {
  SKIP_WITHOUT(OpId::conv2d_backward_data);
  Generator gen(11);
  for (const ConvCase& c : conv_cases()) {
    SCOPED_TRACE(describe(c));
    TensorBase gy = randn(conv_output(c), gen);
    TensorBase w = randn({c.out_channels, c.x[1] / c.p.groups, c.kernel[0], c.kernel[1]}, gen);
    expect_backends_agree<OpId::conv2d_backward_data>(c.x, gy, w, c.p);
  }
}

TEST(CpuOnednnConv, BackwardWeightsWithAndWithoutBias) {
  SKIP_WITHOUT(OpId::conv2d_backward_weights);
  Generator gen(12);
  for (const ConvCase& c : conv_cases()) {
    SCOPED_TRACE(describe(c));
    TensorBase x = randn(c.x, gen), gy = randn(conv_output(c), gen);
    const Shape w_shape{c.out_channels, c.x[1] / c.p.groups, c.kernel[0], c.kernel[1]};
    for (bool with_bias : {false, true}) {
      TensorBase got = TensorBase::empty(w_shape), want = TensorBase::empty(w_shape);
      TensorBase got_b = with_bias ? TensorBase::empty({c.out_channels}) : TensorBase();
      TensorBase want_b = with_bias ? TensorBase::empty({c.out_channels}) : TensorBase();
      kernel<OpId::conv2d_backward_weights>(Backend::cpu)(x, gy, c.p, got, got_b);
      kernel<OpId::conv2d_backward_weights>(Backend::reference)(x, gy, c.p, want, want_b);
      expect_close(got, want);
      if (with_bias) expect_close(got_b, want_b);
    }
  }
}

TEST(CpuOnednnConv, NonContiguousOperands) {
  SKIP_WITHOUT(OpId::conv2d_forward);
  SKIP_WITHOUT(OpId::conv2d_backward_data);
  SKIP_WITHOUT(OpId::conv2d_backward_weights);
  Generator gen(13);
  const ConvCase c{{2, 3, 6, 7}, 4, {3, 3}, {.padding = {1, 1}}};
  // x stored NHWC and seen as NCHW; gy broadcast along the batch (as the gradient of a sum is).
  TensorBase x = randn({2, 6, 7, 3}, gen).as_strided(c.x, {126, 1, 21, 3}, 0);
  TensorBase w = randn({4, 3, 3, 3}, gen);
  const Shape y = conv_output(c);
  TensorBase gy = randn({1, 4, 6, 7}, gen).as_strided(y, {0, 42, 7, 1}, 0);

  expect_backends_agree<OpId::conv2d_forward>(y, x, w, TensorBase(), c.p);
  expect_backends_agree<OpId::conv2d_backward_data>(c.x, gy, w, c.p);

  TensorBase gw = TensorBase::empty(w.shape()), gw_ref = TensorBase::empty(w.shape());
  TensorBase gb = TensorBase::empty({4}), gb_ref = TensorBase::empty({4});
  kernel<OpId::conv2d_backward_weights>(Backend::cpu)(x, gy, c.p, gw, gb);
  kernel<OpId::conv2d_backward_weights>(Backend::reference)(x, gy, c.p, gw_ref, gb_ref);
  expect_close(gw, gw_ref);
  expect_close(gb, gb_ref);
}

TEST(CpuOnednnConv, OnednnRefusalBecomesAnErrorNamingTheOp) {
  ASSERT_NE(kernel<OpId::conv2d_forward>(Backend::cpu), nullptr);
  Generator gen(14);
  // Channels disagree (3 in x, 4 in w): the ops layer never passes this, but if oneDNN refuses
  // anything it must surface as a dendrite::Error, not a crash.
  TensorBase x = randn({1, 3, 5, 5}, gen), w = randn({2, 4, 3, 3}, gen), y = TensorBase::empty({1, 2, 3, 3});
  try {
    kernel<OpId::conv2d_forward>(Backend::cpu)(x, w, {}, {}, y);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_TRUE(std::string_view(e.what()).starts_with("conv2d_forward: oneDNN failed")) << e.what();
  }
}

// ---- pool2d ----

Shape pool_output(const Shape& x, const Pool2dParams& p) {
  return {x[0], x[1], (x[2] + 2 * p.padding[0] - p.kernel[0]) / p.stride[0] + 1,
          (x[3] + 2 * p.padding[1] - p.kernel[1]) / p.stride[1] + 1};
}

std::vector<Pool2dParams> pool_cases(PoolKind kind) {
  std::vector<Pool2dParams> cases = {
      {.kind = kind},
      {.kind = kind, .kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}},
      {.kind = kind, .kernel = {3, 3}, .stride = {1, 1}, .padding = {1, 1}},
      {.kind = kind, .kernel = {3, 2}, .stride = {2, 1}, .padding = {1, 0}},
  };
  if (kind == PoolKind::avg) {
    for (size_t i = 1, n = cases.size(); i < n; ++i) {
      cases.push_back(cases[i]);
      cases.back().count_include_pad = false;
    }
  }
  return cases;
}

// Values drawn from a handful of integers, so that windows hold ties.
TensorBase with_ties(const Shape& shape, Generator& gen) {
  TensorBase t = randn(shape, gen);
  auto* p = static_cast<float*>(t.raw_data());
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = std::round(p[i]);
  return t;
}

void check_pool(const TensorBase& x, const Pool2dParams& p, Generator& gen) {
  SCOPED_TRACE(fmt::format("x {} kind {} kernel {} stride {} pad {} include_pad {}", to_string(x.shape()),
                           p.kind == PoolKind::max ? "max" : "avg", fmt::join(p.kernel, "x"), fmt::join(p.stride, ","),
                           fmt::join(p.padding, ","), p.count_include_pad));
  const Shape ys = pool_output(x.shape(), p);
  const TensorBase y_ref = expect_backends_agree<OpId::pool2d_forward>(ys, x, p);
  TensorBase gy = randn(ys, gen);
  expect_backends_agree<OpId::pool2d_backward>(x.shape(), x, y_ref, gy, p);
}

TEST(CpuOnednnPool, MaxForwardAndBackwardWithTies) {
  SKIP_WITHOUT(OpId::pool2d_forward);
  SKIP_WITHOUT(OpId::pool2d_backward);
  Generator gen(20);
  for (const Pool2dParams& p : pool_cases(PoolKind::max)) {
    check_pool(randn({2, 3, 9, 8}, gen), p, gen);
    check_pool(with_ties({2, 3, 9, 8}, gen), p, gen);
  }
}

TEST(CpuOnednnPool, AvgForwardAndBackwardWithAndWithoutPadCount) {
  SKIP_WITHOUT(OpId::pool2d_forward);
  SKIP_WITHOUT(OpId::pool2d_backward);
  Generator gen(21);
  for (const Pool2dParams& p : pool_cases(PoolKind::avg)) check_pool(randn({2, 3, 9, 8}, gen), p, gen);
}

TEST(CpuOnednnPool, NonContiguousInput) {
  SKIP_WITHOUT(OpId::pool2d_forward);
  SKIP_WITHOUT(OpId::pool2d_backward);
  Generator gen(22);
  // NHWC storage seen as NCHW.
  TensorBase x = with_ties({2, 7, 6, 3}, gen).as_strided({2, 3, 7, 6}, {126, 1, 18, 3}, 0);
  check_pool(x, {.kind = PoolKind::max, .kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}}, gen);
  check_pool(x, {.kind = PoolKind::avg, .kernel = {2, 2}, .stride = {2, 2}}, gen);
}

// ---- softmax ----

void check_softmax(const TensorBase& x, int64_t axis, bool log, Generator& gen) {
  SCOPED_TRACE(fmt::format("x {} axis {} log {}", to_string(x.shape()), axis, log));
  const TensorBase y_ref = expect_backends_agree<OpId::softmax_forward>(x.shape(), x, axis, log);
  TensorBase gy = randn(x.shape(), gen);
  expect_backends_agree<OpId::softmax_backward>(x.shape(), y_ref, gy, axis, log);
}

TEST(CpuOnednnSoftmax, EveryAxisBothKinds) {
  SKIP_WITHOUT(OpId::softmax_forward);
  SKIP_WITHOUT(OpId::softmax_backward);
  Generator gen(30);
  for (bool log : {false, true}) {
    check_softmax(randn({7, 13}, gen), 1, log, gen);
    check_softmax(randn({7, 13}, gen), 0, log, gen);
    for (int64_t axis = 0; axis < 3; ++axis) check_softmax(randn({3, 4, 5}, gen), axis, log, gen);
    check_softmax(randn({11}, gen), 0, log, gen);
    check_softmax(randn({2, 3, 4, 5, 6}, gen), 2, log, gen);
  }
}

TEST(CpuOnednnSoftmax, StridedInputs) {
  SKIP_WITHOUT(OpId::softmax_forward);
  SKIP_WITHOUT(OpId::softmax_backward);
  Generator gen(31);
  check_softmax(transposed(9, 14, gen), 1, false, gen);
  check_softmax(transposed(9, 14, gen), 0, true, gen);
  // Large logits: the accurate algorithm subtracts the maximum first.
  TensorBase big = randn({4, 10}, gen);
  auto* p = static_cast<float*>(big.raw_data());
  for (int64_t i = 0; i < big.numel(); ++i) p[i] *= 100.0f;
  check_softmax(big, 1, false, gen);
  check_softmax(big, 1, true, gen);
}

}  // namespace
}  // namespace dendrite::kernels
