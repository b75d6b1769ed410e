// The dist layer: training one model on many ranks (DESIGN.md; Dean et al. 2012, DistBelief).
//
//   init.h               dist::init(argc, argv): MPI under mpirun, one rank otherwise
//   communicator.h       Communicator: collectives and messages with metadata checks and deadlines
//   data_parallel.h      --dist allreduce: replicas, gradient buckets all-reduced during backward
//   ps_worker.h          --dist ps-async|ps-sync|ps-ssp: workers around parameter-server shards
//   parameter_server.h   the shards' loop and update policy; ps_slicer.h, ps_transport.h
//   strategy.h           what the Trainer calls each step, whichever of the above is in use
#pragma once

#include "dendrite/dist/communicator.h"
#include "dendrite/dist/data_parallel.h"
#include "dendrite/dist/init.h"
#include "dendrite/dist/options.h"
#include "dendrite/dist/ps_worker.h"
#include "dendrite/dist/strategy.h"
