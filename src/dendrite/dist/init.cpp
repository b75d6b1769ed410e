#include "dendrite/dist/init.h"

#include <mpi.h>

#include <cstdlib>

#include "dendrite/dist/mpi_communicator.h"

namespace dendrite::dist {

bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(var) != nullptr) return true;
  return false;
}

std::shared_ptr<Communicator> init(double timeout_seconds) {
  std::shared_ptr<Communicator> comm;
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized != 0) {
    comm = std::make_shared<MpiCommunicator>(MPI_COMM_WORLD, false);  // the program owns MPI
  } else if (launched_by_mpi()) {
    int provided = 0;
    // SERIALIZED: the training thread makes every call, but a user's program may make them from
    // different threads in turn.
    check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
    comm = std::make_shared<MpiCommunicator>(MPI_COMM_WORLD, true);
  } else {
    comm = local_communicator();
  }
  comm->set_timeout(timeout_seconds);
  return comm;
}

std::shared_ptr<Communicator> init(int argc, const char* const* argv) {
  return init(parse_options(argc, argv).comm_timeout);
}

}  // namespace dendrite::dist
