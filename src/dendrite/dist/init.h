// Starting a distributed job: one call at the top of main().
//
//   int main(int argc, char** argv) {
//     std::shared_ptr<dist::Communicator> comm = dist::init(argc, argv);   // reads --comm-timeout
//     dist::Options options = dist::parse_options(argc, argv);              // --dist, --servers, ...
//
// Under mpirun (or srun) init() initialises MPI and returns the world communicator; a program
// started on its own gets a 1-rank communicator without touching MPI, so the same binary runs
// both ways. MPI is finalised when the last handle to the returned communicator goes.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/dist/communicator.h"
#include "dendrite/dist/options.h"

namespace dendrite::dist {

// Whether this process was started by an MPI launcher (OpenMPI, PMI/PMIx, Slurm).
bool launched_by_mpi();

// The world communicator (see above) with its deadline set to `timeout_seconds`. Call once.
std::shared_ptr<Communicator> init(double timeout_seconds = kDefaultCommTimeout);
// The same for a job of options.mode, with its deadline from options.comm_timeout. Before MPI
// starts, it also picks the shared-memory transport that measured fastest for the mode (see
// transport_defaults below); a setting in the environment wins.
std::shared_ptr<Communicator> init(const Options& options);
// init(parse_options(argc, argv)): the deadline from --comm-timeout, the mode from --dist.
std::shared_ptr<Communicator> init(int argc, const char* const* argv);

// The OpenMPI settings init(options) puts in the environment for `mode` when they are unset, as
// (name, value) pairs: for allreduce, btl_vader_single_copy_mechanism=none (docs/dist.md, "W6").
std::vector<std::pair<std::string, std::string>> transport_defaults(Mode mode);

// A communicator of one rank that never uses MPI.
std::shared_ptr<Communicator> local_communicator();

}  // namespace dendrite::dist
