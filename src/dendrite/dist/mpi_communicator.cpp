#include "dendrite/dist/mpi_communicator.h"

#include <climits>
#include <iostream>

#include "dendrite/dist/poll.h"

namespace dendrite::dist {
namespace {

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::mean: return MPI_SUM;
    case ReduceOp::max: return MPI_MAX;
    case ReduceOp::min: return MPI_MIN;
  }
  return MPI_SUM;
}

int count_of(const TensorBase& t, const char* op) {
  DENDRITE_CHECK(t.numel() <= INT_MAX, "{}: {} has more than 2^31 elements; split it", op, describe(t));
  return static_cast<int>(t.numel());
}

int byte_count(size_t bytes, const char* op) {
  DENDRITE_CHECK(bytes <= static_cast<size_t>(INT_MAX), "{}: {} bytes is more than one MPI message holds", op, bytes);
  return static_cast<int>(bytes);
}

void check_reducible(const TensorBase& t, ReduceOp op, const char* what) {
  DENDRITE_CHECK(t.dtype() != DType::bf16 && t.dtype() != DType::f16,
                 "{}: MPI cannot reduce {} tensors ({}); convert to f32 first", what, name(t.dtype()), describe(t));
  DENDRITE_CHECK(op != ReduceOp::mean || is_floating(t.dtype()), "{}: a mean needs a floating dtype, got {}", what,
                 describe(t));
}

// Divides a sum by the rank count, in place (the mean after an MPI_SUM).
void divide(const TensorBase& t, int size) {
  visit_dtype(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      T* p = static_cast<T*>(t.raw_data());
      const T scale = T(1) / static_cast<T>(size);
      for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] *= scale;
    }
  });
}

int64_t nbytes(const TensorBase& t) { return t.numel() * static_cast<int64_t>(element_size(t.dtype())); }

// MPI requests of one operation; test() completes when MPI_Test says so.
struct MpiRequest : Request::Impl {
  MPI_Request request = MPI_REQUEST_NULL;
  std::string what;
  std::vector<TensorBase> keep;  // the buffers stay alive while MPI uses them
  std::function<void()> after;

  bool test() override {
    int flag = 0;
    check_mpi(MPI_Test(&request, &flag, MPI_STATUS_IGNORE), "MPI_Test");
    return flag != 0;
  }
  std::string describe() const override { return what; }
  void on_complete() override {
    if (after) after();
  }
};

}  // namespace

void check_mpi(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  fail("dist: {} failed: {}", call, std::string(text, static_cast<size_t>(length)));
}

MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return MPI_FLOAT;
    case DType::f64: return MPI_DOUBLE;
    case DType::bf16:
    case DType::f16: return MPI_UINT16_T;  // moved, never reduced (check_reducible)
    case DType::i8: return MPI_INT8_T;
    case DType::u8: return MPI_UINT8_T;
    case DType::i32: return MPI_INT32_T;
    case DType::i64: return MPI_INT64_T;
  }
  return MPI_BYTE;
}

MpiCommunicator::MpiCommunicator(MPI_Comm world, bool owns_mpi) : owns_mpi_(owns_mpi) {
  check_mpi(MPI_Comm_dup(world, &data_), "MPI_Comm_dup");
  check_mpi(MPI_Comm_dup(world, &control_), "MPI_Comm_dup");
  // Errors come back as codes that check_mpi turns into exceptions, instead of MPI aborting.
  MPI_Comm_set_errhandler(data_, MPI_ERRORS_RETURN);
  MPI_Comm_set_errhandler(control_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(data_, &rank_);
  MPI_Comm_size(data_, &size_);
}

MpiCommunicator::~MpiCommunicator() {
  MPI_Comm_free(&data_);
  MPI_Comm_free(&control_);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (owns_mpi_ && !finalized) MPI_Finalize();
}

std::string MpiCommunicator::where() const { return fmt::format("rank {} of {}", rank_, size_); }

Request MpiCommunicator::make_request(MPI_Request request, std::string what, std::vector<TensorBase> keep,
                                      std::function<void()> after) {
  auto impl = std::make_unique<MpiRequest>();
  impl->request = request;
  impl->what = fmt::format("{} on {}", what, where());
  impl->keep = std::move(keep);
  impl->after = std::move(after);
  ++stats_.operations;
  return Request(std::move(impl), timeout_, &stats_);
}

void MpiCommunicator::barrier() {
  const auto start = std::chrono::steady_clock::now();
  check(Op::barrier, nullptr, 0);  // the check gathers every rank at rank 0 and answers all: a barrier
  stats_.comm_seconds += seconds_since(start);
}

Request MpiCommunicator::ibroadcast(const TensorBase& t, int root) {
  std::span<std::byte> bytes = bytes_of(t, "broadcast");
  DENDRITE_CHECK(root >= 0 && root < size_, "broadcast: root {} is not a rank (size {})", root, size_);
  MPI_Request r = MPI_REQUEST_NULL;
  check_mpi(MPI_Ibcast(bytes.data(), byte_count(bytes.size(), "broadcast"), MPI_BYTE, root, data_, &r), "MPI_Ibcast");
  if (rank_ == root) stats_.bytes_sent += nbytes(t) * (size_ - 1);
  return make_request(r, fmt::format("broadcast of {} from rank {}", describe(t), root), {t});
}

Request MpiCommunicator::iall_reduce(const TensorBase& t, ReduceOp op) {
  bytes_of(t, "all_reduce");
  check_reducible(t, op, "all_reduce");
  MPI_Request r = MPI_REQUEST_NULL;
  check_mpi(
      MPI_Iallreduce(MPI_IN_PLACE, t.raw_data(), count_of(t, "all_reduce"), mpi_type(t.dtype()), mpi_op(op), data_, &r),
      "MPI_Iallreduce");
  // A ring all-reduce sends 2 (p - 1) / p of the buffer from every rank: the model bytes_sent uses.
  stats_.bytes_sent += 2 * nbytes(t) * (size_ - 1) / size_;
  std::function<void()> after;
  if (op == ReduceOp::mean) after = [t, size = size_] { divide(t, size); };
  return make_request(r, fmt::format("all_reduce({}) of {}", name(op), describe(t)), {t}, std::move(after));
}

Request MpiCommunicator::iall_gather(const TensorBase& in, const TensorBase& out) {
  bytes_of(in, "all_gather");
  bytes_of(out, "all_gather");
  DENDRITE_CHECK(in.dtype() == out.dtype() && out.numel() == in.numel() * size_,
                 "all_gather: output {} must have the input's dtype and {} x {} elements (input {})", describe(out),
                 size_, in.numel(), describe(in));
  MPI_Request r = MPI_REQUEST_NULL;
  const int bytes = byte_count(static_cast<size_t>(nbytes(in)), "all_gather");
  check_mpi(MPI_Iallgather(in.raw_data(), bytes, MPI_BYTE, out.raw_data(), bytes, MPI_BYTE, data_, &r),
            "MPI_Iallgather");
  stats_.bytes_sent += nbytes(in) * (size_ - 1);
  return make_request(r, fmt::format("all_gather of {}", describe(in)), {in, out});
}

void MpiCommunicator::broadcast(const TensorBase& t, int root) {
  bytes_of(t, "broadcast");
  check(Op::broadcast, &t, root);
  ibroadcast(t, root).wait();
}

void MpiCommunicator::all_reduce(const TensorBase& t, ReduceOp op) {
  bytes_of(t, "all_reduce");
  check_reducible(t, op, "all_reduce");
  check(Op::all_reduce, &t, static_cast<int64_t>(op));
  iall_reduce(t, op).wait();
}

void MpiCommunicator::reduce_scatter(const TensorBase& in, const TensorBase& out, ReduceOp op) {
  bytes_of(in, "reduce_scatter");
  bytes_of(out, "reduce_scatter");
  check_reducible(in, op, "reduce_scatter");
  DENDRITE_CHECK(in.dtype() == out.dtype() && in.numel() == out.numel() * size_,
                 "reduce_scatter: input {} must have the output's dtype and {} x {} elements (output {})", describe(in),
                 size_, out.numel(), describe(out));
  check(Op::reduce_scatter, &in, static_cast<int64_t>(op));
  MPI_Request r = MPI_REQUEST_NULL;
  check_mpi(MPI_Ireduce_scatter_block(in.raw_data(), out.raw_data(), count_of(out, "reduce_scatter"),
                                      mpi_type(in.dtype()), mpi_op(op), data_, &r),
            "MPI_Ireduce_scatter_block");
  stats_.bytes_sent += nbytes(in) * (size_ - 1) / size_;
  std::function<void()> after;
  if (op == ReduceOp::mean) after = [out, size = size_] { divide(out, size); };
  make_request(r, fmt::format("reduce_scatter({}) of {}", name(op), describe(in)), {in, out}, std::move(after)).wait();
}

void MpiCommunicator::all_gather(const TensorBase& in, const TensorBase& out) {
  bytes_of(in, "all_gather");
  check(Op::all_gather, &in, 0);
  iall_gather(in, out).wait();
}

Request MpiCommunicator::isend(std::span<const std::byte> data, int dest, int tag) {
  DENDRITE_CHECK(dest >= 0 && dest < size_ && tag >= 0, "send: bad destination {} or tag {} (size {})", dest, tag,
                 size_);
  MPI_Request r = MPI_REQUEST_NULL;
  // MPI's C interface takes a non-const buffer for historical reasons; it does not write to it.
  check_mpi(
      MPI_Isend(const_cast<std::byte*>(data.data()), byte_count(data.size(), "send"), MPI_BYTE, dest, tag, data_, &r),
      "MPI_Isend");
  stats_.bytes_sent += static_cast<int64_t>(data.size());
  return make_request(r, fmt::format("send of {} bytes to rank {} (tag {})", data.size(), dest, tag), {});
}

Request MpiCommunicator::irecv(std::span<std::byte> data, int source, int tag) {
  MPI_Request r = MPI_REQUEST_NULL;
  check_mpi(MPI_Irecv(data.data(), byte_count(data.size(), "recv"), MPI_BYTE,
                      source == kAnySource ? MPI_ANY_SOURCE : source, tag == kAnyTag ? MPI_ANY_TAG : tag, data_, &r),
            "MPI_Irecv");
  const std::string from = source == kAnySource ? std::string("any rank") : fmt::format("rank {}", source);
  return make_request(r, fmt::format("recv of {} bytes from {} (tag {}): it never sent", data.size(), from, tag), {});
}

void MpiCommunicator::send(std::span<const std::byte> data, int dest, int tag) { isend(data, dest, tag).wait(); }

void MpiCommunicator::recv(std::span<std::byte> data, int source, int tag) { irecv(data, source, tag).wait(); }

std::optional<Envelope> MpiCommunicator::iprobe(int source, int tag) {
  int flag = 0;
  MPI_Status status;
  check_mpi(MPI_Iprobe(source == kAnySource ? MPI_ANY_SOURCE : source, tag == kAnyTag ? MPI_ANY_TAG : tag, data_, &flag,
                       &status),
            "MPI_Iprobe");
  if (flag == 0) return std::nullopt;
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  return Envelope{status.MPI_SOURCE, status.MPI_TAG, count};
}

void MpiCommunicator::abort(int code) {
  std::cerr.flush();
  MPI_Abort(MPI_COMM_WORLD, code);
}

}  // namespace dendrite::dist
