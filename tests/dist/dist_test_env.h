// The job's communicator for the dist tests: tests/dist/main.cpp calls dist::init once; under
// `mpirun -np N` every test runs on every rank in the same order (collectives must match), and
// run on its own the binary sees one rank.
#pragma once

#include <memory>

#include "dendrite/dist/communicator.h"

namespace dendrite::dist::testing {

std::shared_ptr<Communicator> comm();

}  // namespace dendrite::dist::testing
