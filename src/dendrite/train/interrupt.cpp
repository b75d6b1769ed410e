#include "dendrite/train/interrupt.h"

namespace dendrite::train {
namespace {

// Only a lock-free atomic or volatile sig_atomic_t may be written from a signal handler.
volatile std::sig_atomic_t g_requested = 0;

extern "C" void on_sigint(int) { g_requested = 1; }

}  // namespace

SigintStop::SigintStop() {
  g_requested = 0;
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND | SA_RESTART;
  sigaction(SIGINT, &action, &previous_);
}

SigintStop::~SigintStop() { sigaction(SIGINT, &previous_, nullptr); }

bool SigintStop::requested() { return g_requested != 0; }

}  // namespace dendrite::train
