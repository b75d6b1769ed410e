// The `dendrite` command; everything but the process boundary lives in the dendrite_cli library.
#include <iostream>

#include "dendrite/cli/commands.h"
#include "dendrite/train/progress.h"

int main(int argc, char** argv) {
  return dendrite::cli::run_cli(argc, argv, std::cout, std::cerr, dendrite::train::stdout_is_terminal());
}
