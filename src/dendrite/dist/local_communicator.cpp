// The communicator of a job with one rank (a program not started by mpirun): collectives are the
// identity, so the same training code runs unchanged, without MPI, at full speed.
#include <cstring>

#include "dendrite/dist/init.h"

namespace dendrite::dist {
namespace {

struct Done : Request::Impl {
  bool test() override { return true; }
  std::string describe() const override { return "a local operation"; }
};

class LocalCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char* backend() const override { return "local"; }

  void barrier() override {}
  void broadcast(const TensorBase& t, int root) override { ibroadcast(t, root); }
  void all_reduce(const TensorBase& t, ReduceOp op) override { iall_reduce(t, op); }
  void reduce_scatter(const TensorBase& in, const TensorBase& out, ReduceOp) override {
    copy(in, out, "reduce_scatter");
  }
  void all_gather(const TensorBase& in, const TensorBase& out) override { copy(in, out, "all_gather"); }

  Request ibroadcast(const TensorBase& t, int root) override {
    bytes_of(t, "broadcast");
    DENDRITE_CHECK(root == 0, "broadcast: root {} is not a rank (size 1)", root);
    return done();
  }
  Request iall_reduce(const TensorBase& t, ReduceOp) override {
    bytes_of(t, "all_reduce");
    return done();
  }
  Request iall_gather(const TensorBase& in, const TensorBase& out) override {
    copy(in, out, "all_gather");
    return done();
  }

  void send(std::span<const std::byte>, int dest, int) override { no_peer("send", dest); }
  void recv(std::span<std::byte>, int source, int) override { no_peer("recv", source); }
  Request isend(std::span<const std::byte>, int dest, int) override { no_peer("send", dest); }
  Request irecv(std::span<std::byte>, int source, int) override { no_peer("recv", source); }
  std::optional<Envelope> iprobe(int, int) override { return std::nullopt; }
  void abort(int) override {}

 private:
  Request done() { return Request(std::make_unique<Done>(), timeout_, &stats_); }
  [[noreturn]] static void no_peer(const char* op, int peer) {
    fail("{}: rank {} does not exist: this job has 1 rank (start it with mpirun -np N)", op, peer);
  }
  static void copy(const TensorBase& in, const TensorBase& out, const char* op) {
    std::span<std::byte> src = bytes_of(in, op), dst = bytes_of(out, op);
    DENDRITE_CHECK(in.dtype() == out.dtype() && src.size() == dst.size(), "{}: output {} does not match input {}", op,
                   describe(out), describe(in));
    if (src.data() != dst.data()) std::memcpy(dst.data(), src.data(), src.size());
  }
};

}  // namespace

std::shared_ptr<Communicator> local_communicator() { return std::make_shared<LocalCommunicator>(); }

}  // namespace dendrite::dist
