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

std::vector<std::pair<std::string, std::string>> transport_defaults(Mode mode) {
  // OpenMPI's shared-memory transport moves a large message with one kernel-assisted copy (CMA,
  // process_vm_readv) by default. For the all-reduce of a data-parallel step that copy measured
  // slower than the two user-space copies through shared buffers: W6 (2 ranks x 1 thread, idle
  // machine) 36-41k samples/s with CMA, 52-55k without; 2.7 MB all-reduced in 0.60 ms blocking /
  // 0.98 ms non-blocking with CMA, 0.31 / 0.45 ms without (perf: CMA's time is page pinning and
  // copying in the kernel). A parameter server is the opposite case: its ranks outnumber the cores,
  // and a fragment copied through shared buffers waits for the receiver to be scheduled, so CMA
  // stays (ps-async 12k samples/s with it, 5.5k without).
  //
  // The gradient buckets are all-reduced non-blocking (libnbc), whose default algorithm choice
  // measured ~1.5x slower than the blocking MPI_Allreduce; its ring algorithm comes close to it:
  // 3 x 0.9 MB on 2 ranks, idle cores, 0.36 ms per step's worth with the ring against 0.53 ms
  // with libnbc's default choice and 0.34 ms for blocking MPI_Allreduce (standalone, docs/dist.md).
  if (mode == Mode::allreduce)
    return {{"btl_vader_single_copy_mechanism", "none"}, {"coll_libnbc_iallreduce_algorithm", "1"}};
  return {};
}

std::shared_ptr<Communicator> init(const Options& options) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized == 0 && launched_by_mpi()) {
    for (const auto& [name, value] : transport_defaults(options.mode)) {
      const std::string var = "OMPI_MCA_" + name;
      setenv(var.c_str(), value.c_str(), 0);  // 0: what the user set stays
    }
  }
  return init(options.comm_timeout);
}

std::shared_ptr<Communicator> init(int argc, const char* const* argv) { return init(parse_options(argc, argv)); }

}  // namespace dendrite::dist
