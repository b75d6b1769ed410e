// Implemented by the conv family; see conv.h.
#include "dendrite/ops/conv.h"
