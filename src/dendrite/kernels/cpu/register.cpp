#include "dendrite/kernels/backends.h"
#include "dendrite/kernels/cpu/cpu.h"

namespace dendrite::kernels {

void register_cpu_backend(Registry& registry) {
  cpu::register_elementwise(registry);
  cpu::register_reduce(registry);
  cpu::register_matmul(registry);
  cpu::register_conv(registry);
  cpu::register_pool(registry);
  cpu::register_softmax(registry);
  cpu::register_cross_entropy(registry);
  cpu::register_normalization(registry);
  cpu::register_indexing(registry);
  cpu::register_lstm(registry);
  cpu::register_lstm_recurrence(registry);
  cpu::register_gru(registry);
  cpu::register_attention(registry);
  cpu::register_layer_norm(registry);
}

}  // namespace dendrite::kernels
