# Installation and the CMake package are added by the set-up work; nothing to install yet.
