#!/bin/sh
# run_mpi.sh NP EXPECT REGEX -- COMMAND...: runs COMMAND under mpirun with NP ranks on this machine
# (shared memory only, oversubscribed, as root when need be) and checks the exit status
# (EXPECT = pass | fail) and that the output matches REGEX (grep -E; "" for none).
set -u
np=$1 expect=$2 regex=$3
shift 4
# Each run gets its own session directory: OpenMPI 4 creates /tmp/ompi.HOST.UID by "exists? else
# mkdir", so two mpiruns that ctest starts at the same moment can race, and the loser aborts in
# orte_init with "mkdir ... File exists" (seen in CI, dist.kill_resume_ssp_2_shards).
session=$(mktemp -d "${TMPDIR:-/tmp}/dendrite-mpi.XXXXXX") || exit 1
trap 'rm -rf "$session"' EXIT
out=$(OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1 \
      OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 OMPI_MCA_orte_tmpdir_base="$session" \
      mpirun -np "$np" --oversubscribe --bind-to none --mca btl self,vader "$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$expect" = pass ] && [ $rc -ne 0 ]; then echo "run_mpi.sh: exit status $rc, expected 0"; exit 1; fi
if [ "$expect" = fail ] && [ $rc -eq 0 ]; then echo "run_mpi.sh: exit status 0, expected a failure"; exit 1; fi
if [ -n "$regex" ] && ! printf '%s\n' "$out" | grep -Eq "$regex"; then
  echo "run_mpi.sh: the output does not match: $regex"; exit 1
fi
exit 0
