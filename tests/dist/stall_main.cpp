// dist_stall: rank 1 stalls before a collective on purpose; the others must report the deadline
// (which operation, which rank never arrived, how long they waited) and the job must end non-zero
// well before the stalled rank wakes up. Run by ctest under mpirun (tests/CMakeLists.txt).
#include <chrono>
#include <iostream>
#include <thread>

#include "dendrite/dist/init.h"

int main() {
  namespace dist = dendrite::dist;
  std::shared_ptr<dist::Communicator> comm = dist::init(1.0);
  if (comm->rank() == 1) std::this_thread::sleep_for(std::chrono::seconds(20));
  dendrite::TensorBase t = dendrite::TensorBase::empty({4}, dendrite::DType::f32);
  try {
    comm->all_reduce(t, dist::ReduceOp::sum);
  } catch (const dist::DeadlineExceeded& e) {
    std::cerr << "dist_stall: rank " << comm->rank() << ": " << e.what() << std::endl;
    comm->abort(3);
  }
  std::cerr << "dist_stall: the collective completed, which it must not" << std::endl;
  return 0;
}
