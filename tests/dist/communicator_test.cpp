#include "dendrite/dist/communicator.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "dist_test_env.h"

namespace dendrite::dist {
namespace {

TensorBase filled(const Shape& shape, float base) {
  TensorBase t = TensorBase::empty(shape, DType::f32);
  float* p = static_cast<float*>(t.raw_data());
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = base + static_cast<float>(i);
  return t;
}

std::vector<float> values(const TensorBase& t) {
  const float* p = static_cast<const float*>(t.raw_data());
  return {p, p + t.numel()};
}

TEST(Communicator, RankAndSize) {
  Communicator& c = *testing::comm();
  EXPECT_GE(c.size(), 1);
  EXPECT_GE(c.rank(), 0);
  EXPECT_LT(c.rank(), c.size());
  c.barrier();
}

TEST(Communicator, AllReduceSumMeanMax) {
  Communicator& c = *testing::comm();
  const int n = c.size(), r = c.rank();
  TensorBase t = filled({2, 3}, static_cast<float>(r));
  c.all_reduce(t, ReduceOp::sum);
  const float rank_sum = static_cast<float>(n * (n - 1) / 2);
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(values(t)[i], rank_sum + static_cast<float>(n * i));
  TensorBase m = filled({4}, static_cast<float>(r));
  c.all_reduce(m, ReduceOp::mean);
  EXPECT_FLOAT_EQ(values(m)[0], rank_sum / static_cast<float>(n));
  TensorBase x = filled({1}, static_cast<float>(r));
  c.all_reduce(x, ReduceOp::max);
  EXPECT_FLOAT_EQ(values(x)[0], static_cast<float>(n - 1));
}

TEST(Communicator, BroadcastFromLastRank) {
  Communicator& c = *testing::comm();
  const int root = c.size() - 1;
  TensorBase t = filled({5}, c.rank() == root ? 100.0f : -1.0f);
  c.broadcast(t, root);
  EXPECT_EQ(values(t), values(filled({5}, 100.0f)));
}

TEST(Communicator, AllGatherAndReduceScatter) {
  Communicator& c = *testing::comm();
  const int n = c.size(), r = c.rank();
  TensorBase in = filled({2}, static_cast<float>(10 * r));
  TensorBase out = TensorBase::empty({2 * n}, DType::f32);
  c.all_gather(in, out);
  for (int k = 0; k < n; ++k) {
    EXPECT_FLOAT_EQ(values(out)[static_cast<size_t>(2 * k)], static_cast<float>(10 * k));
    EXPECT_FLOAT_EQ(values(out)[static_cast<size_t>(2 * k + 1)], static_cast<float>(10 * k + 1));
  }
  TensorBase chunks = filled({3 * n}, 1.0f);  // every rank: 1, 2, 3, ...
  TensorBase mine = TensorBase::empty({3}, DType::f32);
  c.reduce_scatter(chunks, mine, ReduceOp::sum);
  for (int i = 0; i < 3; ++i)
    EXPECT_FLOAT_EQ(values(mine)[static_cast<size_t>(i)], static_cast<float>(n * (1 + 3 * r + i)));
}

TEST(Communicator, NonBlockingAllReduceAndMessages) {
  Communicator& c = *testing::comm();
  const int n = c.size(), r = c.rank();
  TensorBase a = filled({1000}, 1.0f), b = filled({10}, 2.0f);
  Request ra = c.iall_reduce(a, ReduceOp::sum), rb = c.iall_reduce(b, ReduceOp::mean);
  ra.wait();
  rb.wait();
  EXPECT_FLOAT_EQ(values(a)[999], static_cast<float>(n) * 1000.0f);
  EXPECT_FLOAT_EQ(values(b)[9], 11.0f);
  if (n == 1) return;
  // A ring of messages: each rank sends its rank to the next one.
  TensorBase out = filled({3}, static_cast<float>(r)), in = TensorBase::empty({3}, DType::f32);
  Request s = c.isend(bytes_of(out, "send"), (r + 1) % n, 5);
  c.recv(in, (r + n - 1) % n, 5);
  s.wait();
  EXPECT_FLOAT_EQ(values(in)[0], static_cast<float>((r + n - 1) % n));
}

TEST(Communicator, MismatchedShapesNameBothRanks) {
  Communicator& c = *testing::comm();
  if (c.size() == 1) GTEST_SKIP() << "needs two ranks";
  const int64_t cols = c.rank() == c.size() - 1 ? 748 : 784;
  TensorBase t = TensorBase::empty({2, cols}, DType::f32);
  try {
    c.all_reduce(t, ReduceOp::sum);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string expected =
        fmt::format("mismatched tensors: rank 0 has f32 [2, 784], rank {} has f32 [2, 748]", c.size() - 1);
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
  // The communicator is still in step afterwards.
  TensorBase ok = filled({2}, 1.0f);
  c.all_reduce(ok, ReduceOp::sum);
  EXPECT_FLOAT_EQ(values(ok)[0], static_cast<float>(c.size()));
}

TEST(Communicator, ContiguousTensorsOnly) {
  Communicator& c = *testing::comm();
  TensorBase t = TensorBase::empty({4, 4}, DType::f32);
  TensorBase transposed = t.as_strided({4, 4}, {1, 4}, 0);
  EXPECT_THROW(c.all_reduce(transposed, ReduceOp::sum), Error);
}

}  // namespace
}  // namespace dendrite::dist
