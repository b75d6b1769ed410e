#!/usr/bin/env bash
# Installs a built Dendrite into a scratch prefix, then configures, builds and runs the consumer
# project in this directory against that prefix only (CMAKE_PREFIX_PATH), as a user outside the
# tree would. Called by ctest (tests/CMakeLists.txt):
#   run.sh <dendrite build dir> <scratch dir> <C++ compiler> <CMake generator> <build type>
set -euo pipefail

build_dir=$1 scratch=$2 cxx=$3 generator=$4 build_type=$5
here=$(cd "$(dirname "$0")" && pwd)

rm -rf "$scratch"
mkdir -p "$scratch"
cmake --install "$build_dir" --prefix "$scratch/prefix" >"$scratch/install.log"
cmake -S "$here" -B "$scratch/consumer" -G "$generator" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE="$build_type" -DCMAKE_PREFIX_PATH="$scratch/prefix" >"$scratch/configure.log" \
  || { cat "$scratch/configure.log"; exit 1; }
# The package must come from the scratch prefix, not from some other Dendrite on the machine.
grep -q "^dendrite_DIR:PATH=$scratch/prefix/" "$scratch/consumer/CMakeCache.txt" \
  || { echo "dendrite was not found in $scratch/prefix:"; grep '^dendrite_DIR' "$scratch/consumer/CMakeCache.txt"; exit 1; }
cmake --build "$scratch/consumer"
"$scratch/consumer/consumer"
