#include "dendrite/kernels/reference/reference.h"

namespace dendrite::kernels::reference {

void register_indexing(Registry& registry) { (void)registry; }  // TODO(foundation): kernels to come

}  // namespace dendrite::kernels::reference
