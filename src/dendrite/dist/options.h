// The distributed-training settings, as flags shared by `dendrite train` and users' own programs:
//
//   --dist allreduce|ps-async|ps-sync|ps-ssp   (default: none, a single process)
//   --servers S      parameter-server ranks (the last S ranks), default 1
//   --staleness s    ps-ssp: a worker may run at most s pushes ahead of the slowest, default 2
//   --backup b       ps-sync: each round applies the first (workers - b) gradients, default 0
//   --n-fetch F      workers fetch parameters every F steps, default 1
//   --n-push P       workers push (the mean of) their gradients every P steps, default 1
//   --ps-optim adagrad|sgd   the shards' update rule, default adagrad (as in DistBelief)
//   --ps-lr X        the shards' learning rate (default: the recipe's)
//   --staleness-lr   divide each gradient's learning rate by its staleness + 1
//   --comm-timeout T seconds any blocking communication may wait, default 300
//   --bucket-mb X    allreduce: gradients are all-reduced in buckets of about X MiB, each started as
//                    soon as backward has filled it (default 1; PyTorch DDP's bucket_cap_mb)
//   --deterministic  allreduce: sum gradients (and buffers) in rank order on every rank, so two
//                    runs of the same job are bit-identical whatever MPI's algorithm (ordered_reduce.h)
//   --warm-start K   ps-*: worker 0 trains alone for K steps before the others join (DistBelief)
//   --slow-rank R --slow-factor F   tests and benchmarks only: worker R's steps take F times as
//                    long (it sleeps F - 1 times its compute time after each step), a straggler
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dendrite::dist {

inline constexpr double kDefaultCommTimeout = 300.0;

enum class Mode { none, allreduce, ps_async, ps_sync, ps_ssp };

const char* name(Mode mode);             // "none", "allreduce", "ps-async", ...
Mode parse_mode(std::string_view text);  // throws naming the accepted values
inline bool is_parameter_server(Mode m) { return m == Mode::ps_async || m == Mode::ps_sync || m == Mode::ps_ssp; }

struct Options {
  Mode mode = Mode::none;
  int servers = 1;
  int staleness = 2;
  int backup = 0;
  int n_fetch = 1;
  int n_push = 1;
  std::string ps_optim = "adagrad";
  std::optional<double> ps_lr{};
  bool staleness_lr = false;
  double comm_timeout = kDefaultCommTimeout;
  double bucket_mb = 1.0;
  bool deterministic = false;
  int warm_start = 0;
  int slow_rank = -1;  // none
  double slow_factor = 1.0;
};

// Checks the values against each other and the job's size (throws dendrite::Error).
void validate(const Options& options, int ranks);

// Reads the flags above from argv ("--flag value" or "--flag=value"), ignoring everything else.
Options parse_options(int argc, const char* const* argv);

}  // namespace dendrite::dist
