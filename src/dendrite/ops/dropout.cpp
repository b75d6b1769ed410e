// Implemented by the dropout family; see dropout.h.
#include "dendrite/ops/dropout.h"
