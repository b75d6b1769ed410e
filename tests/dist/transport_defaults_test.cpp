// Which OpenMPI transport settings dist::init(options) fills in per mode (docs/dist.md, "W6"): the
// all-reduce of data parallelism runs faster through shared buffers, a parameter server through
// kernel-assisted single copies, which stay OpenMPI's default.
#include <gtest/gtest.h>

#include "dendrite/dist/init.h"

namespace dendrite::dist {
namespace {

TEST(TransportDefaults, AllReduceCopiesThroughSharedBuffers) {
  const auto settings = transport_defaults(Mode::allreduce);
  ASSERT_EQ(settings.size(), 2u);
  EXPECT_EQ(settings[0].first, "btl_vader_single_copy_mechanism");
  EXPECT_EQ(settings[0].second, "none");
  EXPECT_EQ(settings[1].first, "coll_libnbc_iallreduce_algorithm");  // ring
  EXPECT_EQ(settings[1].second, "1");
}

TEST(TransportDefaults, ParameterServerAndSingleProcessKeepOpenMpisDefaults) {
  for (Mode m : {Mode::none, Mode::ps_async, Mode::ps_sync, Mode::ps_ssp})
    EXPECT_TRUE(transport_defaults(m).empty()) << name(m);
}

}  // namespace
}  // namespace dendrite::dist
