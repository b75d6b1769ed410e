// Implemented by the indexing family; see indexing.h.
#include "dendrite/ops/indexing.h"
