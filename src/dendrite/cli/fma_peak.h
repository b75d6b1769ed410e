// The FP32 fused multiply-add peak of one core, measured: the roofline that `dendrite bench`'s
// "fraction of peak" figures divide by. A constant would be right for one CPU only: the machine
// BENCHMARKS.md measured reached 266 GFLOP/s a core, a later VM of the same size on another host 118.
#pragma once

#include <string>

namespace dendrite::cli {

struct FmaPeak {
  double gflops = 0;  // best of several timed windows, one thread
  std::string isa;    // the instructions that reached it: "avx512f", "avx2+fma" or "generic"
};

// Times independent FMA chains on the calling thread for about 0.1 s in all. The widest vector
// ISA the CPU runs is used (chosen at run time; the library itself is built for baseline x86-64).
FmaPeak measure_fma_peak();

}  // namespace dendrite::cli
