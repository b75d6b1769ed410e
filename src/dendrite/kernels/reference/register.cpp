#include "dendrite/kernels/backends.h"
#include "dendrite/kernels/reference/reference.h"

namespace dendrite::kernels {

void register_reference_backend(Registry& registry) {
  reference::register_elementwise(registry);
  reference::register_reduce(registry);
  reference::register_matmul(registry);
  reference::register_conv(registry);
  reference::register_pool(registry);
  reference::register_softmax(registry);
  reference::register_indexing(registry);
  reference::register_normalization(registry);
  reference::register_lstm(registry);
  reference::register_gru(registry);
  reference::register_attention(registry);
  reference::register_layer_norm(registry);
}

}  // namespace dendrite::kernels
