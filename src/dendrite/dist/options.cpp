#include "dendrite/dist/options.h"

#include <string>

#include "dendrite/core/error.h"

namespace dendrite::dist {

const char* name(Mode mode) {
  switch (mode) {
    case Mode::none: return "none";
    case Mode::allreduce: return "allreduce";
    case Mode::ps_async: return "ps-async";
    case Mode::ps_sync: return "ps-sync";
    case Mode::ps_ssp: return "ps-ssp";
  }
  return "?";
}

Mode parse_mode(std::string_view text) {
  for (Mode m : {Mode::none, Mode::allreduce, Mode::ps_async, Mode::ps_sync, Mode::ps_ssp})
    if (text == name(m)) return m;
  fail("--dist: unknown mode '{}'; expected none, allreduce, ps-async, ps-sync or ps-ssp", text);
}

void validate(const Options& o, int ranks) {
  DENDRITE_CHECK(o.comm_timeout > 0, "--comm-timeout must be > 0 seconds, got {}", o.comm_timeout);
  // From about 1 KiB (a bucket per parameter, in practice) to 4 GiB (one bucket for any model here).
  DENDRITE_CHECK(o.bucket_mb >= 0.001 && o.bucket_mb <= 4096, "--bucket-mb must be in [0.001, 4096] MiB, got {}",
                 o.bucket_mb);
  DENDRITE_CHECK(o.n_fetch >= 1 && o.n_push >= 1, "--n-fetch and --n-push must be >= 1, got {} and {}", o.n_fetch,
                 o.n_push);
  DENDRITE_CHECK(o.ps_optim == "adagrad" || o.ps_optim == "sgd", "--ps-optim: expected adagrad or sgd, got '{}'",
                 o.ps_optim);
  DENDRITE_CHECK(o.warm_start >= 0, "--warm-start must be >= 0 steps, got {}", o.warm_start);
  DENDRITE_CHECK(o.warm_start == 0 || is_parameter_server(o.mode),
                 "--warm-start applies to the parameter-server modes (ps-async, ps-sync, ps-ssp); --dist {} starts "
                 "every replica from rank 0's weights at once",
                 name(o.mode));
  DENDRITE_CHECK(!o.deterministic || !is_parameter_server(o.mode),
                 "--deterministic applies to --dist allreduce only (a parameter server applies gradients in the "
                 "order they arrive)");
  DENDRITE_CHECK(o.slow_factor >= 1.0, "--slow-factor must be >= 1, got {}", o.slow_factor);
  DENDRITE_CHECK(o.slow_rank < ranks, "--slow-rank {} is not a rank of {}", o.slow_rank, ranks);
  if (!is_parameter_server(o.mode)) return;
  DENDRITE_CHECK(o.servers >= 1 && o.servers < ranks,
                 "--dist {}: --servers {} leaves no worker among {} ranks (start more ranks with mpirun -np N)",
                 name(o.mode), o.servers, ranks);
  const int workers = ranks - o.servers;
  DENDRITE_CHECK(o.backup >= 0 && o.backup < workers, "--backup {} must be in [0, {}) with {} workers", o.backup,
                 workers, workers);
  DENDRITE_CHECK(o.backup == 0 || o.mode == Mode::ps_sync, "--backup applies to --dist ps-sync only");
  DENDRITE_CHECK(o.staleness >= 0, "--staleness must be >= 0, got {}", o.staleness);
  DENDRITE_CHECK(o.mode != Mode::ps_sync || (o.n_fetch == 1 && o.n_push == 1),
                 "--dist ps-sync fetches and pushes every step: --n-fetch and --n-push must be 1");
}

Options parse_options(int argc, const char* const* argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (const size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> std::string {
      if (has_value) return value;
      DENDRITE_CHECK(i + 1 < argc, "{}: missing value", arg);
      return argv[++i];
    };
    auto number = [&](const std::string& text) {
      try {
        size_t used = 0;
        const double v = std::stod(text, &used);
        if (used == text.size()) return v;
      } catch (const std::exception&) {
      }
      fail("{}: expected a number, got '{}'", arg, text);
    };
    if (arg == "--dist")
      o.mode = parse_mode(next());
    else if (arg == "--servers")
      o.servers = static_cast<int>(number(next()));
    else if (arg == "--staleness")
      o.staleness = static_cast<int>(number(next()));
    else if (arg == "--backup")
      o.backup = static_cast<int>(number(next()));
    else if (arg == "--n-fetch")
      o.n_fetch = static_cast<int>(number(next()));
    else if (arg == "--n-push")
      o.n_push = static_cast<int>(number(next()));
    else if (arg == "--ps-optim")
      o.ps_optim = next();
    else if (arg == "--ps-lr")
      o.ps_lr = number(next());
    else if (arg == "--bucket-mb")
      o.bucket_mb = number(next());
    else if (arg == "--comm-timeout")
      o.comm_timeout = number(next());
    else if (arg == "--warm-start")
      o.warm_start = static_cast<int>(number(next()));
    else if (arg == "--slow-rank")
      o.slow_rank = static_cast<int>(number(next()));
    else if (arg == "--slow-factor")
      o.slow_factor = number(next());
    else if (arg == "--staleness-lr")
      o.staleness_lr = true;
    else if (arg == "--deterministic")
      o.deterministic = true;
  }
  return o;
}

}  // namespace dendrite::dist
