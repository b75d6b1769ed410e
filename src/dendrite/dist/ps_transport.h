// Parameter-server transport: how pulls, parameters, pushes and goodbyes travel between workers
// and servers as MPI messages (ps-lite's van). It knows nothing of update rules: a message is a
// fixed header plus an f32 payload, sent and received through the Communicator, so the deadline
// and byte accounting of every message come from there.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "dendrite/dist/communicator.h"

namespace dendrite::dist {

// snapshot: rank 0 asks a shard to save its state for a checkpoint (answered by snapshot_done
// once saved); warm_go: rank 0 tells the other workers that its warm start is over.
enum class PsTag : int {
  pull = 7101,
  params = 7102,
  push = 7103,
  done = 7104,
  snapshot = 7105,
  snapshot_done = 7106,
  warm_go = 7107
};

struct PsHeader {
  int64_t worker = 0;   // the sender's worker index
  int64_t clock = 0;    // pushes the worker has made (ssp)
  int64_t version = 0;  // push: the version its gradient was computed on; pull: the least
                        // version wanted (sync); params: the version sent
  double lr = 0.0;      // push: the worker's current learning rate (its schedule)
  int64_t step = 0;     // snapshot: rank 0's trainer step the snapshot belongs to
};

struct PsMessage {
  int source = 0;
  PsTag tag = PsTag::pull;
  PsHeader header;
  std::vector<float> payload;
};

// Header and payload in one buffer.
std::vector<std::byte> pack(const PsHeader& header, std::span<const float> payload);

// The next message for this rank, if one has arrived (never blocks).
std::optional<PsMessage> poll_message(Communicator& comm);
// Blocking (with the communicator's deadline).
void send_message(Communicator& comm, int dest, PsTag tag, const PsHeader& header, std::span<const float> payload);
// Receives a message of `tag` from `source` whose payload has `elements` floats into `payload`.
PsHeader recv_message(Communicator& comm, int source, PsTag tag, std::span<float> payload);

}  // namespace dendrite::dist
