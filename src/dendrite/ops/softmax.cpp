// Implemented by the softmax family; see softmax.h.
#include "dendrite/ops/softmax.h"
