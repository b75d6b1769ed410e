// The dist flags as parse_options reads them and validate checks them.
#include "dendrite/dist/options.h"

#include <gtest/gtest.h>

#include "support/errors.h"

namespace dendrite::dist {
namespace {

using test_support::error_of;

TEST(Options, BucketSize) {
  EXPECT_DOUBLE_EQ(Options{}.bucket_mb, 1.0);
  const char* argv[] = {"prog", "--dist", "allreduce", "--bucket-mb", "25"};
  const Options o = parse_options(5, argv);
  EXPECT_DOUBLE_EQ(o.bucket_mb, 25.0);
  validate(o, 2);
  Options zero = o;
  zero.bucket_mb = 0;
  EXPECT_EQ(error_of([&] { validate(zero, 2); }), "--bucket-mb must be in [0.001, 4096] MiB, got 0");
}

}  // namespace
}  // namespace dendrite::dist
