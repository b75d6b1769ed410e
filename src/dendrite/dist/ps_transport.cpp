#include "dendrite/dist/ps_transport.h"

#include <cstring>

namespace dendrite::dist {

std::vector<std::byte> pack(const PsHeader& header, std::span<const float> payload) {
  std::vector<std::byte> buffer(sizeof(PsHeader) + payload.size_bytes());
  std::memcpy(buffer.data(), &header, sizeof(PsHeader));
  if (!payload.empty()) std::memcpy(buffer.data() + sizeof(PsHeader), payload.data(), payload.size_bytes());
  return buffer;
}

std::optional<PsMessage> poll_message(Communicator& comm) {
  std::optional<Envelope> envelope = comm.iprobe(kAnySource, kAnyTag);
  if (!envelope) return std::nullopt;
  DENDRITE_CHECK(envelope->bytes >= static_cast<int64_t>(sizeof(PsHeader)) &&
                     (envelope->bytes - static_cast<int64_t>(sizeof(PsHeader))) % sizeof(float) == 0,
                 "parameter server: a message of {} bytes from rank {} (tag {}) is not a parameter-server message",
                 envelope->bytes, envelope->source, envelope->tag);
  std::vector<std::byte> buffer(static_cast<size_t>(envelope->bytes));
  comm.recv(buffer, envelope->source, envelope->tag);
  PsMessage m;
  m.source = envelope->source;
  m.tag = static_cast<PsTag>(envelope->tag);
  std::memcpy(&m.header, buffer.data(), sizeof(PsHeader));
  m.payload.resize((buffer.size() - sizeof(PsHeader)) / sizeof(float));
  if (!m.payload.empty())
    std::memcpy(m.payload.data(), buffer.data() + sizeof(PsHeader), m.payload.size() * sizeof(float));
  return m;
}

void send_message(Communicator& comm, int dest, PsTag tag, const PsHeader& header, std::span<const float> payload) {
  const std::vector<std::byte> buffer = pack(header, payload);
  comm.send(buffer, dest, static_cast<int>(tag));
}

PsHeader recv_message(Communicator& comm, int source, PsTag tag, std::span<float> payload) {
  std::vector<std::byte> buffer(sizeof(PsHeader) + payload.size_bytes());
  comm.recv(buffer, source, static_cast<int>(tag));
  PsHeader header;
  std::memcpy(&header, buffer.data(), sizeof(PsHeader));
  if (!payload.empty()) std::memcpy(payload.data(), buffer.data() + sizeof(PsHeader), payload.size_bytes());
  return header;
}

}  // namespace dendrite::dist
