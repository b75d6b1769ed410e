// The `dendrite` command; everything but the process boundary lives in the dendrite_cli library.
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "dendrite/cli/commands.h"
#include "dendrite/train/progress.h"

namespace {

// libgomp reads OMP_WAIT_POLICY once, when it is loaded, and by default its idle threads spin
// (300,000 iterations) between parallel regions. On a machine whose cores are shared (by other
// processes, or by MPI ranks) the spinning threads starve the working ones: W1 ran at 2.4k
// samples/s by default and 32.7k with OMP_WAIT_POLICY=PASSIVE on the loaded 2-core machine
// (docs/results.md). Sleeping at once costs a wake-up per region instead, which in this VM is
// expensive. A short spin keeps most of both. Measured side by side on the idle machine, W1 at 2
// threads (median of 5): GOMP_SPINCOUNT=300 54.4k samples/s, 1000 61.2k, spinning (ACTIVE) 65.5k;
// W2 10.1k / 10.6k / 10.9k, W3 3,967 / 4,319 / 4,538. Two W1 runs sharing the 2 cores: 91k in all
// with 300, 79k with 1000, and 3000 or more collapses (26k + 26k; docs/performance.md). 1000 is
// the default: within 7% of spinning alone, and no collapse when a second job shares the cores.
// The policy cannot be changed from inside the process, so the command sets it and starts itself
// again, once, unless the user chose a policy or a spin count.
void default_to_short_spin(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0 || setenv("GOMP_SPINCOUNT", "1000", 1) != 0) return;
  execv("/proc/self/exe", argv);
  // Only reached when exec failed: carry on with the default policy.
}

}  // namespace

int main(int argc, char** argv) {
  default_to_short_spin(argv);
  return dendrite::cli::run_cli(argc, argv, std::cout, std::cerr, dendrite::train::stdout_is_terminal());
}
