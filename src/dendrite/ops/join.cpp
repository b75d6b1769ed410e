// Implemented by the join family; see join.h.
#include "dendrite/ops/join.h"
