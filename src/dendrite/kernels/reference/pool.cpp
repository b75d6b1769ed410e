#include "dendrite/kernels/reference/reference.h"

namespace dendrite::kernels::reference {

void register_pool(Registry& registry) { (void)registry; }  // TODO(foundation): kernels to come

}  // namespace dendrite::kernels::reference
