// cpu reductions (sum, max, min). x's axes split into kept axes (out's size equals x's) and
// reduced axes (out has size 1); each group is collapsed on its own, since an element's offset is
// the sum of its kept and reduced parts. Memory then decides the loop order:
//  - rows: the reduced block is walked once per output, in runs along its innermost axis (a
//    contiguous run when the innermost reduced axis has stride 1: row sums, softmax rows, full
//    sums). Threads split the outputs, or, when there are fewer outputs than threads, each
//    output's reduced range (partial results combined in a fixed order);
//  - columns: when the innermost kept axis is contiguous in x and out but the reduced axes are
//    not (a sum over the batch axis), whole rows are folded into a tile of accumulators, so x is
//    read once, sequentially. Threads split the tiles, or the reduced range when tiles are few.
#include <algorithm>
#include <array>
#include <span>
#include <type_traits>
#include <vector>

#include "dendrite/kernels/cpu/cpu.h"
#include "dendrite/kernels/cpu/loops_argmax.h"
#include "dendrite/kernels/cpu/loops_iter.h"
#include "dendrite/kernels/cpu/loops_reducer.h"

namespace dendrite::kernels::cpu {

namespace {

// Columns per tile. Wide tiles keep each row's read long and sequential: tiles of 1024 floats read
// one 4 KiB page per row, which the prefetcher does not follow, and ran column sums at a third of
// the bandwidth. The tile's accumulators (32 KiB of double, 16 KiB of float) stay in L1/L2.
constexpr int64_t kColumnTile = 4096;
// Rows summed in float before the column sums move to double: each float partial then carries at
// most 64 roundings.
constexpr int64_t kRowBlock = 64;

struct ReduceAxes {
  LoopShape<2> kept;     // operands: x, out
  LoopShape<1> reduced;  // operand: x
};

ReduceAxes split_axes(const TensorBase& x, const TensorBase& out) {
  ReduceAxes axes;
  for (size_t d = 0; d < x.shape().size(); ++d) {
    const int64_t size = x.shape()[d];
    if (out.shape()[d] == 1 && size != 1) {
      axes.reduced.push_axis(size, {x.strides()[d]});
    } else {
      axes.kept.push_axis(size, {x.strides()[d], out.strides()[d]});
    }
  }
  axes.kept.finish();
  axes.reduced.finish();
  return axes;
}

// Chunks to split one long reduction into when there are too few outputs to occupy the threads.
int64_t split_count(int64_t outputs, int64_t work_per_output) {
  const int64_t threads = num_threads();
  if (threads <= 1 || outputs >= threads || work_per_output < 2 * kParallelGrain) return 1;
  return std::min<int64_t>(threads, work_per_output / kParallelGrain);
}

template <typename T, ReduceOp Op>
class ReduceLoop {
 public:
  using R = Reducer<T, Op>;
  using Acc = typename R::Acc;

  ReduceLoop(const TensorBase& x, const TensorBase& out)
      : axes_(split_axes(x, out)), x_(static_cast<const T*>(x.raw_data())), out_(static_cast<T*>(out.raw_data())) {}

  void operator()() const {
    const LoopShape<2>& kept = axes_.kept;
    if (kept.numel == 0) return;
    const bool columns = axes_.reduced.numel > 0 && axes_.reduced.inner_stride(0) != 1 && kept.inner_size() > 1 &&
                         kept.inner_stride(0) == 1 && kept.inner_stride(1) == 1;
    if (columns) {
      reduce_columns();
    } else {
      reduce_rows();
    }
  }

 private:
  size_t scratch_rank() const { return std::max(axes_.kept.rank(), axes_.reduced.rank()); }

  // The reduction over the flat range [lo, hi) of the reduced block whose first element is x_off.
  Acc reduce_block(int64_t x_off, int64_t lo, int64_t hi, std::span<int64_t> index) const {
    const LoopShape<1>& red = axes_.reduced;
    if (red.rank() == 1) return R::run(x_ + x_off + lo * red.inner_stride(0), hi - lo, red.inner_stride(0));
    Acc acc = R::identity();
    for_each_run(red, lo, hi, index.first(red.rank()), [&](int64_t n, const std::array<int64_t, 1>& o) {
      acc = R::combine(acc, R::run(x_ + x_off + o[0], n, red.inner_stride(0)));
    });
    return acc;
  }

  // One output's reduction split across threads into `chunks` partials.
  Acc reduce_block_split(int64_t x_off, int64_t chunks) const {
    const int64_t n = axes_.reduced.numel;
    std::vector<Acc> partial(static_cast<size_t>(chunks), R::identity());
    parallel_chunks(chunks, 1, scratch_rank(), [&](int64_t c0, int64_t c1, std::span<int64_t> scratch) {
      for (int64_t c = c0; c < c1; ++c) {
        partial[static_cast<size_t>(c)] = reduce_block(x_off, n * c / chunks, n * (c + 1) / chunks, scratch);
      }
    });
    Acc acc = R::identity();
    for (Acc p : partial) acc = R::combine(acc, p);
    return acc;
  }

  void reduce_rows() const {
    const LoopShape<2>& kept = axes_.kept;
    const int64_t n = axes_.reduced.numel;
    const int64_t sx = kept.inner_stride(0), so = kept.inner_stride(1);
    const int64_t chunks = split_count(kept.numel, n);
    if (chunks > 1) {
      for (int64_t k = 0; k < kept.numel; ++k) {
        out_[offset_at(kept, k, 1)] = static_cast<T>(reduce_block_split(offset_at(kept, k, 0), chunks));
      }
      return;
    }
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1));
    parallel_chunks(kept.numel, grain, scratch_rank(), [&](int64_t lo, int64_t hi, std::span<int64_t> scratch) {
      std::span<int64_t> kept_index = scratch.first(kept.rank());
      std::span<int64_t> red_index = scratch.last(scratch.size() / 2);
      for_each_run(kept, lo, hi, kept_index, [&](int64_t m, const std::array<int64_t, 2>& o) {
        for (int64_t i = 0; i < m; ++i) {
          out_[o[1] + i * so] = static_cast<T>(n == 0 ? R::identity() : reduce_block(o[0] + i * sx, 0, n, red_index));
        }
      });
    });
  }

  // Folds reduced rows [lo, hi) of the tile at x_off (width `width`) into acc.
  void fold_tile(int64_t x_off, int64_t width, int64_t lo, int64_t hi, Acc* acc, std::span<int64_t> index) const {
    const LoopShape<1>& red = axes_.reduced;
    const int64_t step = red.inner_stride(0);
    if constexpr (R::kSum && std::is_same_v<T, float>) {
      // float column sums of kRowBlock rows at a time (twice the lanes of double, and no
      // conversion per element), flushed into the double accumulators.
      std::array<float, kColumnTile> block{};
      int64_t rows = 0;
      auto flush = [&] {
        for (int64_t j = 0; j < width; ++j) acc[j] += static_cast<double>(block[static_cast<size_t>(j)]);
        std::fill_n(block.begin(), width, 0.0f);
        rows = 0;
      };
      for_each_run(red, lo, hi, index.first(red.rank()), [&](int64_t n, const std::array<int64_t, 1>& o) {
        for (int64_t i = 0; i < n; ++i) {
          Reducer<float, ReduceOp::sum>::add_row(block.data(), x_ + x_off + o[0] + i * step, width);
          if (++rows == kRowBlock) flush();
        }
      });
      flush();
    } else {
      for_each_run(red, lo, hi, index.first(red.rank()), [&](int64_t n, const std::array<int64_t, 1>& o) {
        for (int64_t i = 0; i < n; ++i) R::accumulate_row(acc, x_ + x_off + o[0] + i * step, width);
      });
    }
  }

  void reduce_columns() const {
    const LoopShape<2>& kept = axes_.kept;
    const int64_t n = axes_.reduced.numel;
    const int64_t width = kept.inner_size();
    const int64_t tiles_per_row = (width + kColumnTile - 1) / kColumnTile;
    const int64_t tiles = kept.numel / width * tiles_per_row;
    // The flat kept index of a tile's first column gives its offsets in x and out.
    auto tile_origin = [&](int64_t t, int64_t& x_off, int64_t& out_off, int64_t& cols) {
      const int64_t row = t / tiles_per_row, col = t % tiles_per_row * kColumnTile;
      x_off = offset_at(kept, row * width + col, 0);
      out_off = offset_at(kept, row * width + col, 1);
      cols = std::min(kColumnTile, width - col);
    };
    const int64_t chunks = split_count(tiles, n * std::min(width, kColumnTile));
    if (chunks > 1) {
      for (int64_t t = 0; t < tiles; ++t) {
        int64_t x_off = 0, out_off = 0, cols = 0;
        tile_origin(t, x_off, out_off, cols);
        std::vector<Acc> partial(static_cast<size_t>(chunks * cols), R::identity());
        parallel_chunks(chunks, 1, scratch_rank(), [&](int64_t c0, int64_t c1, std::span<int64_t> scratch) {
          for (int64_t c = c0; c < c1; ++c) {
            fold_tile(x_off, cols, n * c / chunks, n * (c + 1) / chunks, partial.data() + c * cols, scratch);
          }
        });
        for (int64_t j = 0; j < cols; ++j) {
          Acc acc = R::identity();
          for (int64_t c = 0; c < chunks; ++c) acc = R::combine(acc, partial[static_cast<size_t>(c * cols + j)]);
          out_[out_off + j] = static_cast<T>(acc);
        }
      }
      return;
    }
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n * std::min(width, kColumnTile), 1));
    parallel_chunks(tiles, grain, scratch_rank(), [&](int64_t lo, int64_t hi, std::span<int64_t> scratch) {
      std::array<Acc, kColumnTile> acc;
      for (int64_t t = lo; t < hi; ++t) {
        int64_t x_off = 0, out_off = 0, cols = 0;
        tile_origin(t, x_off, out_off, cols);
        std::fill_n(acc.begin(), cols, R::identity());
        fold_tile(x_off, cols, 0, n, acc.data(), scratch);
        for (int64_t j = 0; j < cols; ++j) out_[out_off + j] = static_cast<T>(acc[static_cast<size_t>(j)]);
      }
    });
  }

  ReduceAxes axes_;
  const T* x_;
  T* out_;
};

template <typename T>
void reduce_typed(ReduceOp op, const TensorBase& x, const TensorBase& out) {
  switch (op) {
    case ReduceOp::sum: return ReduceLoop<T, ReduceOp::sum>(x, out)();
    case ReduceOp::max: return ReduceLoop<T, ReduceOp::max>(x, out)();
    case ReduceOp::min: return ReduceLoop<T, ReduceOp::min>(x, out)();
    case ReduceOp::count: break;
  }
}

void reduce(ReduceOp op, const TensorBase& x, const TensorBase& out) {
  if (x.dtype() == DType::f64) {
    reduce_typed<double>(op, x, out);
  } else {
    reduce_typed<float>(op, x, out);
  }
}

}  // namespace

void register_reduce(Registry& registry) {
  registry.add<OpId::reduce>(Backend::cpu, {DType::f32, DType::f64}, reduce);
  registry.add<OpId::argmax>(Backend::cpu, {DType::f32, DType::f64}, argmax);
}

}  // namespace dendrite::kernels::cpu
