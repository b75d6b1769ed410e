// DimVector (the storage of Shape and Strides) against std::vector<int64_t>: every operation at
// sizes on both sides of the inline capacity, including growth from inline to heap in the middle
// of an insert, inserts of its own elements, and copies and moves of inline and heap contents.
#include "dendrite/core/dim_vector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

namespace dendrite {
namespace {

std::vector<int64_t> iota(size_t n, int64_t from = 1) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), from);
  return v;
}

void expect_same(const DimVector& got, const std::vector<int64_t>& want) {
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(got.empty(), want.empty());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "at " << i;
  EXPECT_EQ(static_cast<std::vector<int64_t>>(got), want);
}

constexpr size_t kSizes[] = {0, 1, DimVector::kInline - 1, DimVector::kInline, DimVector::kInline + 1, 20};

TEST(DimVector, ConstructsLikeAVector) {
  expect_same(DimVector(), {});
  expect_same(DimVector{2, 3, 4}, {2, 3, 4});
  expect_same(DimVector(3), {0, 0, 0});
  expect_same(DimVector(3, 7), {7, 7, 7});  // a count and a value, not two iterators
  for (size_t n : kSizes) {
    const std::vector<int64_t> v = iota(n);
    expect_same(DimVector(v), v);
    expect_same(DimVector(v.begin(), v.end()), v);
    expect_same(DimVector(std::span<const int64_t>(v)), v);
  }
}

TEST(DimVector, CopiesAndMovesInlineAndHeapContents) {
  for (size_t n : kSizes) {
    const std::vector<int64_t> v = iota(n);
    DimVector a(v);
    DimVector copy(a);
    expect_same(copy, v);
    DimVector moved(std::move(a));
    expect_same(moved, v);
    EXPECT_TRUE(a.empty());  // NOLINT: a moved-from DimVector is empty and usable
    a.push_back(5);
    expect_same(a, {5});
    for (size_t m : kSizes) {
      DimVector target(iota(m, 100));
      target = copy;
      expect_same(target, v);
      DimVector other(iota(m, 100));
      other = std::move(target);
      expect_same(other, v);
    }
    copy = copy;  // NOLINT: self-assignment keeps the values
    expect_same(copy, v);
  }
}

TEST(DimVector, GrowsShrinksAndEdits) {
  for (size_t n : kSizes) {
    std::vector<int64_t> want = iota(n);
    DimVector got(want);
    for (int64_t k = 0; k < 9; ++k) {  // past the inline capacity from every starting size
      got.push_back(50 + k);
      want.push_back(50 + k);
    }
    expect_same(got, want);
    got.insert(got.begin(), -1);
    want.insert(want.begin(), -1);
    got.insert(got.begin() + 2, size_t{3}, -2);
    want.insert(want.begin() + 2, size_t{3}, -2);
    const std::vector<int64_t> more = iota(7, 200);
    got.insert(got.end() - 1, more.begin(), more.end());
    want.insert(want.end() - 1, more.begin(), more.end());
    expect_same(got, want);
    got.erase(got.begin() + 1);
    want.erase(want.begin() + 1);
    got.erase(got.begin() + 2, got.begin() + 6);
    want.erase(want.begin() + 2, want.begin() + 6);
    got.pop_back();
    want.pop_back();
    expect_same(got, want);
    got.resize(3);
    want.resize(3);
    expect_same(got, want);
    got.resize(10, 9);
    want.resize(10, 9);
    expect_same(got, want);
    EXPECT_EQ(got.front(), want.front());
    EXPECT_EQ(got.back(), want.back());
    got.clear();
    EXPECT_TRUE(got.empty());
  }
}

// Inserting or assigning a range of its own elements must read them before it moves them, also
// when the insert is what moves the values from inline storage to the heap.
TEST(DimVector, InsertsAndAssignsItsOwnElements) {
  for (size_t n : {size_t{2}, DimVector::kInline - 1, DimVector::kInline, size_t{12}}) {
    const std::vector<int64_t> original = iota(n);
    DimVector got(original);
    got.insert(got.begin() + 1, got.begin(), got.end());
    // 1, (1 .. n), 2 .. n
    std::vector<int64_t> expected{original[0]};
    expected.insert(expected.end(), original.begin(), original.end());
    expected.insert(expected.end(), original.begin() + 1, original.end());
    expect_same(got, expected);
    got.assign(got.begin() + 1, got.end());
    expected.erase(expected.begin());
    expect_same(got, expected);
    got.assign(got.rbegin(), got.rend());  // its own elements, read backwards
    std::reverse(expected.begin(), expected.end());
    expect_same(got, expected);
  }
}

TEST(DimVector, ComparesAndConverts) {
  const DimVector a{1, 2, 3}, b{1, 2, 4}, prefix{1, 2};
  EXPECT_EQ(a, (DimVector{1, 2, 3}));
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
  EXPECT_LT(prefix, a);
  EXPECT_EQ(a, (std::vector<int64_t>{1, 2, 3}));  // a vector converts for the comparison
  const std::vector<int64_t> v = a;
  EXPECT_EQ(v, (std::vector<int64_t>{1, 2, 3}));
  const std::span<const int64_t> s(a);
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s[2], 3);
  EXPECT_THROW((void)a.at(3), std::out_of_range);
  int64_t sum = 0;
  for (int64_t d : a) sum += d;
  EXPECT_EQ(sum, 6);
  EXPECT_EQ(*a.rbegin(), 3);
}

}  // namespace
}  // namespace dendrite
