// Ctrl-C as a request to stop cleanly. While a SigintStop is alive, the first SIGINT only sets a
// flag that the training loop polls after each step (it then writes a checkpoint and returns); the
// handler resets itself (SA_RESETHAND), so a second Ctrl-C ends the process as usual, which is
// still safe because every checkpoint file is replaced atomically.
//
// Signal dispositions belong to the process: use one SigintStop at a time, from the main thread.
#pragma once

#include <csignal>

namespace dendrite::train {

class SigintStop {
 public:
  SigintStop();   // installs the handler and clears the flag
  ~SigintStop();  // restores the previous handler
  SigintStop(const SigintStop&) = delete;
  SigintStop& operator=(const SigintStop&) = delete;

  static bool requested();

 private:
  struct sigaction previous_ {};
};

}  // namespace dendrite::train
