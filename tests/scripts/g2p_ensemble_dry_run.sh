#!/usr/bin/env bash
# scripts/g2p_ensemble.sh --system twelve --dry-run prints the twelve trainings of the best G2P system
# (README, Results) and its two evaluations: seven left-to-right runs (the first leading, six as
# --ensemble), five right-to-left runs as --rescore, the variants' recipe options, and the dev
# weights of that system.
# Usage: g2p_ensemble_dry_run.sh PATH/TO/g2p_ensemble.sh
set -u
script=$1
failed=0
out=$(DENDRITE=/nonexistent/dendrite "$script" --system twelve --dry-run --out /scratch/g2p 2>&1) || {
  printf 'FAIL: the dry run exited with status %s:\n%s\n' "$?" "$out"
  exit 1
}

# check DESCRIPTION COUNT PATTERN: PATTERN (grep -E) matches COUNT lines of the output.
check() {
  local got
  got=$(grep -cE -- "$3" <<<"$out")
  if [[ $got -ne $2 ]]; then
    printf 'FAIL: %s: %s lines match /%s/, want %s\n' "$1" "$got" "$3" "$2"
    failed=1
  fi
}
check "trainings" 12 ' train g2p-lstm --threads 1 --seed [0-9]+ --out /scratch/g2p/'
check "right-to-left trainings" 5 ' train g2p-lstm .*--set data\.reverse_target=true'
check "bf16 trainings" 7 ' train g2p-lstm .*--precision bf16'
check "the wider run" 1 'l2r-wide-s17 .*--set model\.encoder_hidden=256 --set model\.decoder_hidden=384 --set model\.dropout=0\.3'
check "the two-layer decoder" 1 'l2r-dec2-s11 .*--set model\.decoder_lstm_layers=2 --set train\.epochs=24'
check "evaluations" 2 ' eval /scratch/g2p/l2r-s11 (--ensemble /scratch/g2p/l2r-[^ ]+ ){6}(--rescore /scratch/g2p/r2l-[^ ]+ ){5}--batch 320'
check "dev weights" 1 '--split dev --rescore-weight 0\.5 --rescore-weight 0\.625 --rescore-weight 0\.75$'
[[ $failed -eq 0 ]] || printf 'output:\n%s\n' "$out"
exit $failed
