#!/usr/bin/env bash
# scripts/g2p_ensemble.sh refuses bad options with status 1 and a message naming the option.
# Usage: g2p_ensemble_bad_options.sh PATH/TO/g2p_ensemble.sh
set -u
script=$1
failed=0

# expect MESSAGE -- COMMAND...: the command exits 1 and its output contains MESSAGE.
expect() {
  local message=$1 out status
  shift 2
  out=$("$@" 2>&1)
  status=$?
  if [[ $status -ne 1 || $out != *"$message"* ]]; then
    printf 'FAIL: %s\n  status %s, output:\n%s\n' "$*" "$status" "$out"
    failed=1
  fi
}

expect 'error: --parallel takes a positive whole number' -- "$script" --parallel 0
expect "error: --system: 'nine' is not one of four, twelve" -- "$script" --system nine
expect "error: --weights: 'x' is not a non-negative number" -- "$script" --weights '1 x'
expect 'error: --weights: give at least one weight' -- "$script" --weights ''
expect 'error: /nonexistent/dendrite not found: build first' -- env DENDRITE=/nonexistent/dendrite "$script"
exit $failed
