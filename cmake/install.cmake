# Installation and the CMake package: `find_package(dendrite)` gives dendrite::dendrite (and one
# target per layer: dendrite::core, dendrite::kernels, ... dendrite::train), with the umbrella
# header <dendrite/dendrite.h>; plus the `dendrite` command and its built-in recipes.
#
# dendrite_warnings is linked as $<BUILD_INTERFACE:...> by every layer, so it stays out of the
# export set: a consumer must never inherit our -Werror.
include(CMakePackageConfigHelpers)

set(DENDRITE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/dendrite)

# Every library target that src/CMakeLists.txt defines (the layers and the umbrella), so that a
# new layer is installed and exported without an edit here.
get_property(dendrite_library_targets DIRECTORY ${PROJECT_SOURCE_DIR}/src PROPERTY BUILDSYSTEM_TARGETS)
list(FILTER dendrite_library_targets INCLUDE REGEX "^dendrite(_.*)?$")

# A sanitized static library needs the sanitizer runtimes when the consumer links it; say so in
# the installed interface rather than leaving the consumer with undefined __asan_* symbols.
if(DENDRITE_SANITIZE)
  target_link_options(dendrite_core INTERFACE $<INSTALL_INTERFACE:-fsanitize=address,undefined>)
endif()

install(TARGETS ${dendrite_library_targets}
        EXPORT dendriteTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

# Every header of the layers: public headers include lower layers' headers (ops/tensor.h includes
# autograd/autograd.h, which includes core/), so the whole tree goes. Backend internals and the
# command's own headers are not part of the library's interface.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/dendrite/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dendrite
        FILES_MATCHING PATTERN "*.h"
        REGEX "/kernels/(cpu|reference|cuda)/" EXCLUDE
        REGEX "/cli/" EXCLUDE)

install(EXPORT dendriteTargets
        NAMESPACE dendrite::
        DESTINATION ${DENDRITE_INSTALL_CMAKEDIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/dendriteConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/dendriteConfig.cmake
                              INSTALL_DESTINATION ${DENDRITE_INSTALL_CMAKEDIR})
# 0.x releases may break the API in any minor version, so only the same minor version matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/dendriteConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION}
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/dendriteConfig.cmake ${PROJECT_BINARY_DIR}/dendriteConfigVersion.cmake
        DESTINATION ${DENDRITE_INSTALL_CMAKEDIR})

# The command line: bin/dendrite finds its recipes in ../share/dendrite/recipes.
if(TARGET dendrite_command)
  install(TARGETS dendrite_command RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
if(EXISTS ${PROJECT_SOURCE_DIR}/recipes)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/recipes/ DESTINATION ${CMAKE_INSTALL_DATADIR}/dendrite/recipes)
endif()

# The `dendrite` command and its built-in recipes (it looks in <prefix>/share/dendrite/recipes).
install(TARGETS dendrite_command RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/recipes/ DESTINATION ${CMAKE_INSTALL_DATADIR}/dendrite/recipes
        FILES_MATCHING PATTERN "*.toml")
