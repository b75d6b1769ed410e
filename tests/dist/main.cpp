// gtest main for test_dist: one MPI initialisation for all tests, a short deadline so a failing
// rank ends the job in seconds, and only rank 0's output (ranks report failures by exit status).
#include <gtest/gtest.h>

#include "dendrite/dist/init.h"
#include "dist_test_env.h"

namespace dendrite::dist::testing {
namespace {
std::shared_ptr<Communicator> g_comm;
}
std::shared_ptr<Communicator> comm() { return g_comm; }
}  // namespace dendrite::dist::testing

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  dendrite::dist::testing::g_comm = dendrite::dist::init(10.0);
  auto& comm = *dendrite::dist::testing::g_comm;
  if (comm.rank() != 0) {
    // Failures still show (gtest prints them from the failing rank); the listing of passes does not.
    delete testing::UnitTest::GetInstance()->listeners().Release(
        testing::UnitTest::GetInstance()->listeners().default_result_printer());
  }
  const int failed = RUN_ALL_TESTS();
  // A failed rank may have left its peers inside a collective (or a server loop): end the job.
  if (failed != 0 && comm.size() > 1) comm.abort(1);
  // Every rank must agree, or one would finalise while another still waits in a collective.
  dendrite::TensorBase flag = dendrite::TensorBase::empty({1}, dendrite::DType::i32);
  *static_cast<int32_t*>(flag.raw_data()) = failed;
  comm.all_reduce(flag, dendrite::dist::ReduceOp::max);
  const int any = *static_cast<int32_t*>(flag.raw_data());
  dendrite::dist::testing::g_comm.reset();
  return any;
}
