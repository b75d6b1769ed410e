// View semantics: views share storage with their base (no copy), read the right values, and every
// user error in ops/views.cpp is a dendrite::Error naming the op and the shapes.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <string_view>

#include "dendrite/ops/ops.h"

namespace dendrite {
namespace {

void expect_error_at(const char* file, int line, const std::function<void()>& fn,
                     std::initializer_list<std::string_view> parts) {
  try {
    fn();
  } catch (const Error& e) {
    std::string_view message = e.what();
    for (std::string_view part : parts) {
      if (message.find(part) == std::string_view::npos) {
        ADD_FAILURE_AT(file, line) << "error message \"" << message << "\" lacks \"" << part << "\"";
      }
    }
    return;
  }
  ADD_FAILURE_AT(file, line) << "expected a dendrite::Error";
}
// EXPECT_ERROR(statement, "part of the message", ...)
#define EXPECT_ERROR(stmt, ...) expect_error_at(__FILE__, __LINE__, [&] { stmt; }, {__VA_ARGS__})

bool shares_storage(const Tensor& a, const Tensor& b) { return a.storage().data() == b.storage().data(); }

Tensor iota(const Shape& shape) { return arange(0, numel(shape), 1, DType::f32).reshape(shape); }

std::vector<float> values(const Tensor& t) { return to_vector<float>(t); }

TEST(ViewsTest, ReshapeAndViewShareStorage) {
  Tensor x = iota({2, 3, 4});
  Tensor v = x.view({6, 4});
  EXPECT_TRUE(shares_storage(v, x));
  EXPECT_EQ(v.shape(), (Shape{6, 4}));
  Tensor r = x.reshape({4, -1});
  EXPECT_TRUE(shares_storage(r, x));
  EXPECT_EQ(r.shape(), (Shape{4, 6}));
  EXPECT_EQ(values(r), values(x));
  // A write through the view is seen by the base.
  fill_(x.view({-1}).narrow(0, 5, 1), 100);
  EXPECT_EQ(values(x)[5], 100.0f);
}

TEST(ViewsTest, ReshapeCopiesOnlyWhenItMust) {
  Tensor x = iota({3, 4});
  Tensor t = x.t();  // [4, 3] with strides [1, 4]
  Tensor r = t.reshape({12});
  EXPECT_FALSE(shares_storage(r, x)) << "a transposed tensor cannot be flattened without a copy";
  EXPECT_EQ(values(r), (std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  // Splitting one axis of a transposed tensor is still a view.
  Tensor split_axis = t.reshape({2, 2, 3});
  EXPECT_TRUE(shares_storage(split_axis, x));
  EXPECT_EQ(values(split_axis), values(r));
  // Size-1 axes may be added anywhere.
  EXPECT_TRUE(shares_storage(t.reshape({1, 4, 1, 3}), x));
}

TEST(ViewsTest, ReshapeOfEmptyAndScalar) {
  Tensor e = zeros({0, 3});
  EXPECT_EQ(e.reshape({3, 0}).shape(), (Shape{3, 0}));
  EXPECT_EQ(e.reshape({-1, 5}).shape(), (Shape{0, 5})) << "PyTorch infers 0 for -1 here";
  Tensor s = scalar_tensor(7.0);
  EXPECT_EQ(s.reshape({1, 1}).shape(), (Shape{1, 1}));
  EXPECT_EQ(s.reshape({1, 1}).reshape({}).item<float>(), 7.0f);
}

TEST(ViewsTest, TransposeAndPermute) {
  Tensor x = iota({2, 3, 4});
  Tensor p = x.permute({2, 0, 1});
  EXPECT_TRUE(shares_storage(p, x));
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.strides(), (Strides{1, 12, 4}));
  EXPECT_FALSE(p.is_contiguous());
  EXPECT_EQ(values(p).front(), 0.0f);
  EXPECT_EQ(values(p)[1], 4.0f);
  Tensor t = x.transpose(0, -1);
  EXPECT_EQ(t.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(t.strides(), (Strides{1, 4, 12}));
  EXPECT_EQ(iota({3}).t().shape(), (Shape{3})) << "t() of a vector is itself";
  EXPECT_EQ(scalar_tensor(1.0).transpose(0, 0).dim(), 0);
}

TEST(ViewsTest, SliceNarrowSelect) {
  Tensor x = iota({5, 4});
  Tensor s = x.slice(0, 1, 5, 2);
  EXPECT_TRUE(shares_storage(s, x));
  EXPECT_EQ(s.shape(), (Shape{2, 4}));
  EXPECT_EQ(s.offset(), 4);
  EXPECT_EQ(s.strides(), (Strides{8, 1}));
  EXPECT_EQ(values(s), (std::vector<float>{4, 5, 6, 7, 12, 13, 14, 15}));
  // Python-style clamping: negative bounds count from the end, out-of-range ones are clipped.
  EXPECT_EQ(values(x.slice(1, -2, 100)), (std::vector<float>{2, 3, 6, 7, 10, 11, 14, 15, 18, 19}));
  EXPECT_EQ(x.slice(0, 3, 1).shape(), (Shape{0, 4}));
  Tensor n = x.narrow(1, 1, 2);
  EXPECT_TRUE(shares_storage(n, x));
  EXPECT_EQ(values(n.select(0, -1)), (std::vector<float>{17, 18}));
  Tensor row = x.select(0, 2);
  EXPECT_EQ(row.shape(), (Shape{4}));
  EXPECT_EQ(row.offset(), 8);
  EXPECT_EQ(x.select(1, 3).select(0, 0).item<float>(), 3.0f);
}

TEST(ViewsTest, ExpandSqueezeUnsqueeze) {
  Tensor x = iota({3, 1});
  Tensor e = x.expand({2, 3, 4});
  EXPECT_TRUE(shares_storage(e, x));
  EXPECT_EQ(e.strides(), (Strides{0, 1, 0}));
  EXPECT_EQ(values(e.select(0, 1).select(0, 2)), (std::vector<float>{2, 2, 2, 2}));
  EXPECT_EQ(x.expand({-1, 2}).shape(), (Shape{3, 2}));
  Tensor u = x.unsqueeze(0).unsqueeze(-1);
  EXPECT_EQ(u.shape(), (Shape{1, 3, 1, 1}));
  EXPECT_TRUE(shares_storage(u, x));
  EXPECT_EQ(u.squeeze().shape(), (Shape{3}));
  EXPECT_EQ(u.squeeze(2).shape(), (Shape{1, 3, 1}));
  EXPECT_EQ(u.squeeze(1).shape(), (Shape{1, 3, 1, 1})) << "squeezing a non-1 axis is a no-op";
  EXPECT_EQ(ones({1, 1}).squeeze().dim(), 0);
  EXPECT_EQ(scalar_tensor(2.0).unsqueeze(0).shape(), (Shape{1}));
  EXPECT_EQ(iota({2, 3, 4}).flatten(1).shape(), (Shape{2, 12}));
  EXPECT_EQ(iota({2, 3, 4}).flatten(0, 1).shape(), (Shape{6, 4}));
  EXPECT_EQ(scalar_tensor(2.0).flatten().shape(), (Shape{1}));
}

TEST(ViewsTest, ContiguousToClone) {
  Tensor x = iota({2, 3});
  EXPECT_TRUE(x.contiguous().is_same(x));
  Tensor t = x.t();
  Tensor c = t.contiguous();
  EXPECT_FALSE(shares_storage(c, x));
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(values(c), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_TRUE(x.to(DType::f32).is_same(x));
  Tensor d = t.to(DType::f64);
  EXPECT_EQ(d.dtype(), DType::f64);
  EXPECT_EQ(to_vector<double>(d), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  Tensor i = tensor<float>({-1.5f, 2.7f}).to(DType::i32);
  EXPECT_EQ(to_vector<int32_t>(i), (std::vector<int32_t>{-1, 2})) << "float to int truncates, like static_cast";
  Tensor k = x.clone();
  EXPECT_FALSE(shares_storage(k, x));
  fill_(k, 0);
  EXPECT_EQ(values(x)[1], 1.0f) << "a clone owns its data";
}

TEST(ViewsTest, GradientsFlowBackThroughViews) {
  Tensor x = iota({3, 4}).requires_grad_();
  Tensor y = x.t().reshape({12}).narrow(0, 2, 4).view({2, 2}).expand({3, 2, 2}).unsqueeze(0).squeeze(0);
  sum(y * 2.0).backward();
  // narrow(2, 4) of the transposed flattening picks x[2][0], x[0][1], x[1][1], x[2][1], each
  // expanded three times.
  EXPECT_EQ(values(x.grad()), (std::vector<float>{0, 6, 0, 0, 0, 6, 0, 0, 6, 6, 0, 0}));
  Tensor z = iota({2, 3}).requires_grad_();
  sum(z.slice(1, 0, 3, 2).to(DType::f64).clone() * 3.0).backward();
  EXPECT_EQ(values(z.grad()), (std::vector<float>{3, 0, 3, 3, 0, 3}));
  Tensor w = iota({2, 3}).requires_grad_();
  sum(w.permute({1, 0}).select(0, 1)).backward();
  EXPECT_EQ(values(w.grad()), (std::vector<float>{0, 1, 0, 0, 1, 0}));
}

TEST(ViewsTest, FreeFunctionsMatchMethods) {
  Tensor x = iota({2, 1, 3});
  EXPECT_EQ(reshape(x, {3, 2}).shape(), (Shape{3, 2}));
  EXPECT_EQ(transpose(x, 0, 2).shape(), (Shape{3, 1, 2}));
  EXPECT_EQ(permute(x, {1, 2, 0}).shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(expand(x, {2, 4, 3}).shape(), (Shape{2, 4, 3}));
  EXPECT_EQ(squeeze(x, 1).shape(), (Shape{2, 3}));
  EXPECT_EQ(unsqueeze(x, 3).shape(), (Shape{2, 1, 3, 1}));
  EXPECT_EQ(flatten(x).shape(), (Shape{6}));
}

TEST(ViewsTest, ViewStridesAndInferShape) {
  Tensor x = iota({4, 6}).t();  // [6, 4], strides [1, 6]
  EXPECT_FALSE(view_strides(x, {24}).has_value());
  auto split_axis = view_strides(x, {2, 3, 4});
  ASSERT_TRUE(split_axis.has_value());
  EXPECT_EQ(*split_axis, (Strides{3, 1, 6}));
  EXPECT_EQ(infer_shape("op", {-1, 4}, 24, {24}), (Shape{6, 4}));
}

TEST(ViewsTest, ReshapeAndViewErrors) {
  Tensor x = iota({2, 3});
  EXPECT_ERROR(x.reshape({-1, -1}), "reshape: only one dimension can be -1 in [-1, -1]");
  EXPECT_ERROR(x.reshape({-2, 3}), "reshape: invalid dimension -2 in [-2, 3]");
  EXPECT_ERROR(x.reshape({4, -1}), "reshape: shape [4, -1] is invalid for input of shape [2, 3]");
  EXPECT_ERROR(x.reshape({0, -1}), "reshape: shape [0, -1] is invalid for input of shape [2, 3]");
  EXPECT_ERROR(x.reshape({5}), "reshape: shape [5] is invalid for input of shape [2, 3]");
  EXPECT_ERROR(x.view({7}), "view: shape [7] is invalid for input of shape [2, 3]");
  EXPECT_ERROR(x.t().view({6}),
               "view: shape [6] is not compatible with the strides [1, 3] of input [3, 2] (use reshape, which copies)");
  EXPECT_ERROR(x.reshape({}), "reshape: shape [] is invalid for input of shape [2, 3]");
  EXPECT_ERROR(infer_shape("op", {-1, 0}, 0, {0}), "op: shape [-1, 0] is invalid for input of shape [0]");
}

TEST(ViewsTest, AxisErrors) {
  Tensor x = iota({2, 3});
  EXPECT_ERROR(x.flatten(1, 0), "flatten: start axis 1 comes after end axis 0");
  EXPECT_ERROR(x.flatten(2), "flatten: axis 2 is out of range for a tensor of rank 2");
  EXPECT_ERROR(x.permute({0}), "permute: 1 axes given for a tensor of rank 2");
  EXPECT_ERROR(x.permute({1, -1}), "permute: axis 1 repeated in [1, -1]");
  EXPECT_ERROR(x.permute({0, 2}), "permute: axis 2 is out of range for a tensor of rank 2");
  EXPECT_ERROR(x.transpose(0, 2), "transpose: axis 2 is out of range for a tensor of rank 2");
  EXPECT_ERROR(iota({2, 2, 2}).t(), "t: expects a tensor of rank <= 2, got shape [2, 2, 2]");
  EXPECT_ERROR(x.squeeze(-3), "squeeze: axis -3 is out of range for a tensor of rank 2");
  EXPECT_ERROR(x.unsqueeze(3), "unsqueeze: axis 3 is out of range for a tensor of rank 3");
}

TEST(ViewsTest, IndexingErrors) {
  Tensor x = iota({2, 3});
  EXPECT_ERROR(x.slice(2, 0, 1), "slice: axis 2 is out of range for a tensor of rank 2");
  EXPECT_ERROR(scalar_tensor(1.0).slice(0, 0, 1), "slice: cannot slice a zero-dimensional tensor");
  EXPECT_ERROR(x.slice(1, 0, 3, 0), "slice: step must be positive, got 0");
  EXPECT_ERROR(x.slice(1, 3, 0, -1), "slice: step must be positive, got -1");
  EXPECT_ERROR(x.narrow(1, 2, 2), "narrow: range [2, 4) is out of bounds for axis 1 of size 3");
  EXPECT_ERROR(x.narrow(0, -1, 1), "narrow: range [-1, 0) is out of bounds for axis 0 of size 2");
  EXPECT_ERROR(x.narrow(-3, 0, 1), "narrow: axis -3 is out of range for a tensor of rank 2");
  EXPECT_ERROR(x.select(1, 3), "select: index 3 is out of range for axis 1 of size 3");
  EXPECT_ERROR(x.select(0, -3), "select: index -3 is out of range for axis 0 of size 2");
  EXPECT_ERROR(x.select(2, 0), "select: axis 2 is out of range for a tensor of rank 2");
  // A 0-d tensor has no axis to index (these once read past the end of the empty shape).
  EXPECT_ERROR(scalar_tensor(1.0).narrow(0, 0, 1), "narrow: cannot narrow a zero-dimensional tensor");
  EXPECT_ERROR(scalar_tensor(1.0).select(0, 0), "select: cannot select from a zero-dimensional tensor");
  EXPECT_ERROR(scalar_tensor(1.0).slice(-1, 0, 1), "slice: cannot slice a zero-dimensional tensor");
}

TEST(ViewsTest, ExpandErrors) {
  Tensor x = iota({3, 1});
  EXPECT_ERROR(x.expand({3}), "expand: cannot expand [3, 1] to fewer dimensions [3]");
  EXPECT_ERROR(x.expand({-1, 3, 1}), "expand: new leading dimension -1 must be non-negative");
  EXPECT_ERROR(x.expand({2, 4}), "expand: cannot expand [3, 1] to [2, 4] (axis 0 has size 3, not 1)");
  EXPECT_ERROR(x.expand({2, 4, 4}), "expand: cannot expand [3, 1] to [2, 4, 4] (axis 1 has size 3, not 1)");
}

// A negative size other than -1 on a size-1 axis passes expand's checks and is only caught by
// as_strided ("as_strided: negative dimension in shape [3, -2]"), a message that names neither
// expand nor the requested shape. expand should reject `want < 0` itself after resolving -1.
TEST(ViewsTest, ExpandRejectsNegativeSizesItself) {
  Tensor x = iota({3, 1});
  EXPECT_ERROR(x.expand({3, -2}), "expand:", "[3, -2]");
}

}  // namespace
}  // namespace dendrite
