# Warning and sanitizer flags shared by every Dendrite target, applied through one interface target
# so that a target opts in by linking it (and consumers of the installed package never inherit it).
add_library(dendrite_warnings INTERFACE)
target_compile_options(dendrite_warnings INTERFACE -Wall -Wextra -Wpedantic)
if(DENDRITE_WERROR)
  target_compile_options(dendrite_warnings INTERFACE -Werror)
endif()
if(DENDRITE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
