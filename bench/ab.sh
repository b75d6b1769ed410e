#!/usr/bin/env bash
# A/B of several dendrite binaries on one workload, interleaved: every round runs each binary at
# each thread count once, so machine drift (tens of percent over minutes on the shared 2-core
# machine) spreads over all of them instead of favouring whichever ran first. Prints min / median /
# max of the throughput per binary and thread count.
#
#   cp build/bin/dendrite /tmp/dendrite_old      # before the change
#   ... rebuild ...
#   bench/ab.sh W3 5 300 "1 2" /tmp/dendrite_old build/bin/dendrite
#
# Arguments: WORKLOAD ROUNDS STEPS "THREAD COUNTS" BINARY...
set -euo pipefail
if [ $# -lt 5 ]; then
  echo "usage: $0 WORKLOAD ROUNDS STEPS \"THREADS...\" BINARY..." >&2
  exit 2
fi
workload=$1 rounds=$2 steps=$3 threads=$4
shift 4
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq "$rounds"); do
  for binary in "$@"; do
    for t in $threads; do
      line=$("$binary" bench --workload "$workload" --threads "$t" --steps "$steps" 2>&1 | tail -1)
      value=$(grep -o '[0-9,.]* [a-z]*/s' <<<"$line" | head -1 | awk '{print $1}' | tr -d ,)
      if [ -z "$value" ]; then
        echo "$binary --threads $t gave no figure: $line" >&2
        exit 1
      fi
      echo "$binary $t $value" >>"$out"
    done
  done
done
/usr/bin/python3 - "$out" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    binary, threads, value = line.split()
    runs[(binary, int(threads))].append(float(value))
for (binary, threads), values in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    print(f"{binary}  threads {threads}: min {min(values):,.0f}  median {statistics.median(values):,.0f}  "
          f"max {max(values):,.0f}  ({', '.join(f'{v:,.0f}' for v in values)})")
PY
