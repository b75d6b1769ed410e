// Implemented by the pooling family; see pooling.h.
#include "dendrite/ops/pooling.h"
