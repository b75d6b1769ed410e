#!/bin/sh
# kill_resume.sh DENDRITE RUN_DIR MODE NP MIN_ACCURACY [SERVERS]: trains fashion-mlp on a small slice with
# --dist MODE on NP ranks (the last SERVERS, default 1, parameter-server shards; 0 for allreduce) while worker 0 SIGKILLs itself
# after its 10th step (DENDRITE_DIST_TEST_KILL, dist/test_faults.h; worker 0, the writer, so that
# the last checkpoint is known: step 8); checks that the job failed and left that checkpoint with
# the shards' snapshots, then resumes it and checks that the resumed run completes with a test
# accuracy of at least MIN_ACCURACY.
set -u
exe=$1 dir=$2 mode=$3 np=$4 min_acc=$5 servers=${6:-1}
run=$(dirname "$0")/run_mpi.sh
flags="--dist $mode --servers $servers --ps-lr 0.01 --threads 1 --comm-timeout 20"
rm -rf "$dir"
# 512 examples, 2 workers x 32: 8 steps per epoch and worker; checkpoints every 4 steps.
DENDRITE_DIST_TEST_KILL=0:10 "$run" "$np" fail "" -- "$exe" train fashion-mlp $flags --epochs 3 --batch 32 \
  --limit-train 512 --limit-test 500 --set train.checkpoint_every=4 --out "$dir" || exit 1
[ -f "$dir/last/trainer.json" ] || { echo "kill_resume.sh: the killed run left no checkpoint"; exit 1; }
step=$(sed -n 's/.*"step": *\([0-9]*\).*/\1/p' "$dir/last/trainer.json" | head -n 1)
shard=0
while [ $shard -lt "$servers" ]; do
  [ -f "$dir/ps/shard-$shard-step-$step.bin" ] ||
    { echo "kill_resume.sh: shard $shard has no snapshot of step $step"; ls "$dir/ps"; exit 1; }
  shard=$((shard + 1))
done
echo "kill_resume.sh: killed; resuming from step $step"
"$run" "$np" pass '"completed": true' -- sh -c "\"$exe\" train --resume \"$dir\" $flags && cat \"$dir/summary.json\"" \
  || exit 1
acc=$(sed -n 's/.*"test_accuracy": *\([0-9.]*\).*/\1/p' "$dir/summary.json" | head -n 1)
echo "kill_resume.sh: resumed run's test accuracy $acc (at least $min_acc wanted)"
awk -v a="$acc" -v m="$min_acc" 'BEGIN { exit !(a != "" && a + 0 >= m + 0) }' || exit 1
