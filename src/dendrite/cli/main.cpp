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
// (docs/results.md). Sleeping at once costs a wake-up per region instead: W1 at 2 threads on the
// idle machine, 58k samples/s passive against 71k spinning. A short spin (GOMP_SPINCOUNT=300, a
// microsecond or so) keeps most of both: 66k alone, and two W1 runs sharing the cores as fast as
// passive (43k + 46k) where GOMP_SPINCOUNT=10000 fell to 14k each (docs/performance.md).
// The policy cannot be changed from inside the process, so the command sets it and starts itself
// again, once, unless the user chose a policy or a spin count.
void default_to_short_spin(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0 || setenv("GOMP_SPINCOUNT", "300", 1) != 0) return;
  execv("/proc/self/exe", argv);
  // Only reached when exec failed: carry on with the default policy.
}

}  // namespace

int main(int argc, char** argv) {
  default_to_short_spin(argv);
  return dendrite::cli::run_cli(argc, argv, std::cout, std::cerr, dendrite::train::stdout_is_terminal());
}
