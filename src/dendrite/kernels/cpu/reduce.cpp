#include "dendrite/kernels/cpu/cpu.h"

namespace dendrite::kernels::cpu {

void register_reduce(Registry& registry) { (void)registry; }  // TODO(foundation): kernels to come

}  // namespace dendrite::kernels::cpu
