#include "dendrite/dist/gradient_reducer.h"

#include <cstring>
#include <vector>

#include "dendrite/autograd/autograd.h"
#include "dendrite/dist/ordered_reduce.h"
#include "dendrite/dist/poll.h"

namespace dendrite::dist {

struct GradientReducer::State {
  struct Slot {
    std::string name;
    Tensor param;
    size_t bucket = 0;
    int64_t offset = 0;  // elements into the bucket's buffer
    bool ready = false;
  };
  struct Bucket {
    TensorBase buffer;    // 1-D, contiguous
    TensorBase gathered;  // deterministic: every rank's buffer, in rank order
    std::vector<size_t> slots;
    size_t pending = 0;
    Request request;
    bool launched = false;
  };

  std::shared_ptr<Communicator> comm;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  size_t next_launch = 0;
  bool deterministic = false;

  TensorBase view_of(const Slot& s) const {
    const TensorBase& buffer = buckets[s.bucket].buffer;
    return buffer.as_strided(s.param.shape(), contiguous_strides(s.param.shape()), s.offset);
  }

  // Starts every bucket, in order, whose gradients are all in.
  void launch_ready() {
    while (next_launch < buckets.size() && buckets[next_launch].pending == 0) {
      Bucket& b = buckets[next_launch++];
      b.request = deterministic ? comm->iall_gather(b.buffer, b.gathered) : comm->iall_reduce(b.buffer, ReduceOp::sum);
      b.launched = true;
    }
  }

  // Copies grad / size into the slot's place in its bucket; returns the view .grad() becomes.
  TensorBase take(size_t index, const TensorBase& grad) {
    Slot& s = slots[index];
    DENDRITE_CHECK(!s.ready,
                   "DataParallel: parameter '{}' received a second gradient before the reduction of the first "
                   "finished; call finish() (the Trainer does) after every backward",
                   s.name);
    DENDRITE_CHECK(grad.is_contiguous() && grad.dtype() == s.param.dtype() && grad.shape() == s.param.shape(),
                   "DataParallel: gradient of '{}' is {}, expected a contiguous {}", s.name, describe(grad),
                   describe(s.param));
    TensorBase dst = view_of(s);
    const int size = comm->size();
    visit_dtype(grad.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        const T* in = static_cast<const T*>(grad.raw_data());
        T* out = static_cast<T*>(dst.raw_data());
        // Dividing before the sum keeps the mean exact for power-of-two rank counts.
        const T scale = T(1) / static_cast<T>(size);
        for (int64_t i = 0, n = grad.numel(); i < n; ++i) out[i] = in[i] * scale;
      }
    });
    s.ready = true;
    --buckets[s.bucket].pending;
    launch_ready();
    // Let MPI move the buckets already started while backward computes the next gradients.
    for (size_t b = 0; b < next_launch; ++b) buckets[b].request.test();
    return dst;
  }
};

GradientReducer::GradientReducer(std::shared_ptr<Communicator> comm, nn::NamedTensors params, ReducerOptions options)
    : state_(std::make_shared<State>()) {
  DENDRITE_CHECK(comm != nullptr, "DataParallel: no communicator");
  DENDRITE_CHECK(options.bucket_bytes > 0, "DataParallel: bucket_bytes must be > 0, got {}", options.bucket_bytes);
  State& st = *state_;
  st.comm = std::move(comm);
  st.deterministic = options.deterministic;

  // Same parameter count everywhere first, then (in DataParallel::start) the checked broadcast of
  // every parameter compares names' shapes and dtypes.
  TensorBase count = TensorBase::empty({1}, DType::i64);
  *static_cast<int64_t*>(count.raw_data()) = static_cast<int64_t>(params.size());
  TensorBase counts = TensorBase::empty({st.comm->size()}, DType::i64);
  st.comm->all_gather(count, counts);
  const auto* all = static_cast<const int64_t*>(counts.raw_data());
  for (int r = 1; r < st.comm->size(); ++r)
    DENDRITE_CHECK(all[r] == all[0],
                   "DataParallel: ranks have different models: rank 0 has {} parameters, rank {} has {}", all[0], r,
                   all[r]);

  for (auto& [name, p] : params) {
    DENDRITE_CHECK(p.dtype() == DType::f32 || p.dtype() == DType::f64,
                   "DataParallel: parameter '{}' is {}; only f32 and f64 gradients are reduced", name, describe(p));
    st.slots.push_back({name, p});
  }
  // Reverse order: the last layers' gradients are ready first.
  int64_t filled = 0;
  for (size_t k = st.slots.size(); k-- > 0;) {
    State::Slot& s = st.slots[k];
    const int64_t bytes = s.param.numel() * static_cast<int64_t>(element_size(s.param.dtype()));
    const bool new_bucket = st.buckets.empty() || filled + bytes > options.bucket_bytes ||
                            st.slots[st.buckets.back().slots.front()].param.dtype() != s.param.dtype();
    if (new_bucket) {
      st.buckets.emplace_back();
      filled = 0;
    }
    State::Bucket& b = st.buckets.back();
    s.bucket = st.buckets.size() - 1;
    s.offset = filled / static_cast<int64_t>(element_size(s.param.dtype()));
    b.slots.push_back(k);
    filled += bytes;
  }
  for (State::Bucket& b : st.buckets) {
    int64_t elements = 0;
    for (size_t k : b.slots) elements += st.slots[k].param.numel();
    b.buffer = TensorBase::empty({elements}, st.slots[b.slots.front()].param.dtype());
    b.pending = b.slots.size();
    if (st.deterministic) b.gathered = TensorBase::empty({elements * st.comm->size()}, b.buffer.dtype());
  }

  std::weak_ptr<State> weak = state_;
  for (size_t k = 0; k < st.slots.size(); ++k)
    st.slots[k].param.register_hook([weak, k](const TensorBase& grad) -> TensorBase {
      std::shared_ptr<State> state = weak.lock();
      if (!state) return {};
      return state->take(k, grad);
    });
}

GradientReducer::~GradientReducer() = default;

int64_t GradientReducer::buckets() const { return static_cast<int64_t>(state_->buckets.size()); }

void GradientReducer::finish() {
  State& st = *state_;
  for (State::Slot& s : st.slots) {
    if (s.ready) continue;
    // No gradient reached this parameter on this rank (it took no part in the loss): it adds zeros
    // to the sum, and its .grad() becomes the others' contribution.
    TensorBase dst = st.view_of(s);
    std::memset(dst.raw_data(), 0, static_cast<size_t>(dst.numel()) * element_size(dst.dtype()));
    s.ready = true;
    --st.buckets[s.bucket].pending;
    s.param.set_grad(Tensor(dst));
  }
  st.launch_ready();
  for (State::Bucket& b : st.buckets) {
    b.request.wait();
    b.request = Request();
    if (st.deterministic) sum_in_rank_order(b.gathered, b.buffer, st.comm->size());
    b.launched = false;
    b.pending = b.slots.size();
  }
  for (State::Slot& s : st.slots) s.ready = false;
  st.next_launch = 0;
}

}  // namespace dendrite::dist
