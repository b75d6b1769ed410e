// Implemented by the normalization family; see normalization.h.
#include "dendrite/ops/normalization.h"
