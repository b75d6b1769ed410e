#!/usr/bin/python3
"""Dendrite against PyTorch on the reference workloads of BENCHMARKS.md, in one run.

    /usr/bin/python3 bench/run.py                  # W1-W5, 1 and 2 threads, 3 repetitions
    /usr/bin/python3 bench/run.py --quick          # a smoke run of the whole pipeline
    /usr/bin/python3 bench/run.py --workload W1,W2 --threads 2 --reps 5
    /usr/bin/python3 bench/run.py --accuracy       # W1/W2 test accuracy, both sides

Every repetition runs each workload once for Dendrite (`dendrite bench --json`) and once for
PyTorch in each configuration of a small threading grid (bench/torch_workloads.py), interleaved,
one process per run so each has its own peak RSS (wait4). PyTorch's best configuration per
workload and thread count is kept and named. Writes bench/results.json (per workload: both
figures, min / median / max, the ratio of medians, % of the FMA peak, peak RSS) and prints a
Markdown table (bench/report.py). Before every run it samples /proc/stat for half a second: work
from other processes on the cores is recorded with the run and warned about, since on a 2-core
machine it moves the figures.

Only the standard library is needed here; PyTorch runs under --python (/usr/bin/python3).
"""

import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree when ctest runs this
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (bench/report.py)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SKIP = 77  # ctest's SKIP_RETURN_CODE when --skip-missing finds no PyTorch or no data set

# Variables that decide threading; cleared for every run, then set per configuration.
THREAD_VARS = ["OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]
# The environment pins OpenBLAS to a slow kernel; PyTorch's runs unset these (BENCHMARKS.md), ours
# never read them.
OPENBLAS_PINS = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]


def torch_configs(threads, grid):
    """(name, torch threads, environment, keep OpenBLAS pins) of PyTorch's grid at `threads`."""
    if threads == 1:
        configs = [("1thr", 1, {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}, False)]
        if grid == "full":
            configs.append(("1thr+passive", 1, {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                                                "OMP_WAIT_POLICY": "PASSIVE"}, False))
        return configs
    n = str(threads)
    configs = [("passive", threads, {"OMP_WAIT_POLICY": "PASSIVE"}, False),
               (f"torch1+blas{n}", 1, {"OPENBLAS_NUM_THREADS": n}, False)]
    if grid in ("default", "full"):
        configs.insert(0, ("default", threads, {}, False))
    if grid == "full":
        configs += [(f"torch1+blas{n}+passive", 1, {"OPENBLAS_NUM_THREADS": n, "OMP_WAIT_POLICY": "PASSIVE"}, False),
                    ("as-installed", threads, {}, True)]
    if grid == "minimal":
        configs = configs[:1]
    return configs


def dendrite_configs(grid):
    """Dendrite runs with its defaults; the full grid adds a tuned setting to check that the
    defaults are within 5% of it (the issue's "fast by default")."""
    configs = [("default", {})]
    if grid == "full":
        configs += [("passive", {"OMP_WAIT_POLICY": "PASSIVE"}), ("spinning", {"OMP_WAIT_POLICY": "ACTIVE"})]
    return configs


def clean_env(keep_pins=False):
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    if not keep_pins:
        for k in OPENBLAS_PINS:
            env.pop(k, None)
    return env


def cpu_busy(seconds=0.5):
    """Cores' worth of CPU time used by anything (other than this idle runner) over `seconds`."""
    def sample():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    if total1 == total0:
        return 0.0
    return (1 - (idle1 - idle0) / (total1 - total0)) * os.cpu_count()


def run_job(job, timeout):
    """Runs one process; returns its records with the run's metadata, its own peak RSS (from
    wait4, so each run's figure is its own) and the CPU check taken just before it."""
    busy = cpu_busy()
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(job["argv"], env=job["env"], stdout=out, stderr=err, text=True)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid != 0:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                print(f"  timed out after {timeout} s: {job['shown']}", file=sys.stderr)
                return []
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        print(f"  failed (status {proc.returncode}): {job['shown']}\n{stderr.strip()}", file=sys.stderr)
        return []
    records = []
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        variant = r.get("variant")
        r.update(impl=job["impl"], config=job["config"] + (f"+{variant}" if variant else ""), rep=job["rep"],
                 run_threads=job["threads"], cpu_busy_before=round(busy, 3), load_before=round(load, 2),
                 wall_s=round(wall, 2), process_max_rss_mb=round(usage.ru_maxrss / 1024, 1), command=job["shown"])
        records.append(r)
    return records


def shown_command(argv, env_changes, unset):
    parts = [f"env {' '.join('-u ' + u for u in unset)}".rstrip()] if unset else []
    parts += [f"{k}={v}" for k, v in env_changes.items()]
    return " ".join(parts + [shlex.join(argv)])


def build_jobs(args, available, rep):
    """The runs of one repetition, interleaved: each workload and thread count, ours then PyTorch's
    configurations (the caller rotates the order per repetition so no side always runs first).
    Accuracy runs take a new seed per repetition: --reps 3 gives the spread over 3 seeds."""
    seed = args.seed + rep if args.accuracy else args.seed
    common = ["--seed", str(seed), "--peak-gflops", str(args.peak_gflops)]
    if args.quick:
        common.append("--quick")
    if args.data:
        common += ["--data", args.data]
    if args.accuracy:
        common.append("--accuracy")
    groups = []
    for threads in args.threads:
        for w in args.workload:
            if w == "W5" and threads != 1 and not args.accuracy:
                continue  # batch-1 latency is defined on one thread
            if args.accuracy and w not in ("W1", "W2"):
                continue
            extra = list(common)
            steps = args.steps.get(w)
            if steps and not args.accuracy:
                extra += ["--steps", str(steps)]
            group = []
            if w in available:
                for name, env in dendrite_configs(args.grid):
                    argv = [args.dendrite, "bench", "--json", "--workload", w, "--threads", str(threads)] + extra
                    group.append({"impl": "dendrite", "config": name, "workload": w, "threads": threads,
                                  "argv": argv, "env": {**clean_env(), **env},
                                  "shown": shown_command(argv, env, [])})
            if not args.no_torch:
                for name, torch_threads, env, keep_pins in torch_configs(threads, args.grid):
                    argv = [args.python, os.path.join(HERE, "torch_workloads.py"), "--json", "--workload", w,
                            "--threads", str(threads), "--torch-threads", str(torch_threads), "--config", name] + extra
                    if args.torch_lib_path:
                        paths = [args.torch_lib_path, os.environ.get("LD_LIBRARY_PATH")]
                        env = {**env, "LD_LIBRARY_PATH": ":".join(p for p in paths if p)}
                    group.append({"impl": "pytorch", "config": name, "workload": w, "threads": threads,
                                  "argv": argv, "env": {**clean_env(keep_pins), **env},
                                  "shown": shown_command(argv, env, [] if keep_pins else OPENBLAS_PINS)})
            groups.append(group)
    return groups


def check_prerequisites(args):
    """Names what is missing; with --skip-missing exits with SKIP so ctest reports a skip."""
    problems = []
    if not os.access(args.dendrite, os.X_OK):
        problems.append(f"no dendrite command at {args.dendrite} (build it: ninja -C build dendrite_command)")
    if not args.no_torch:
        probe = subprocess.run([args.python, "-c", "import torch, numpy"], capture_output=True, text=True)
        if probe.returncode != 0:
            problems.append(f"{args.python} cannot import torch and numpy (Debian: apt install python3-torch)")
    data = args.data or "/usr/share/datasets/fashion-mnist"
    if any(w in args.workload for w in ("W1", "W2")) and not os.path.isdir(data):
        problems.append(f"no Fashion-MNIST at {data} (Debian: apt install dataset-fashion-mnist)")
    if problems:
        print("bench/run.py: " + "; ".join(problems), file=sys.stderr)
        sys.exit(SKIP if args.skip_missing else 1)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workload", default="W1,W2,W3,W4,W5", help="comma-separated workloads (default W1-W5)")
    p.add_argument("--threads", help="thread counts to measure (default 1,2; --accuracy 2)")
    p.add_argument("--reps", type=int, help="repetitions of every run (default 3; --quick 1)")
    p.add_argument("--grid", choices=["minimal", "reduced", "default", "full"], default="default",
                   help="PyTorch configurations at 2+ threads: minimal (passive only; --accuracy uses it), reduced "
                        "(passive, torch1+blasN), default (all three), full (+ combined, as-installed pins; "
                        "Dendrite also with OMP_WAIT_POLICY=PASSIVE)")
    p.add_argument("--steps", action="append", default=[], metavar="W=N",
                   help="timed steps of a training workload, e.g. --steps W2=200 (defaults: W1 468 = one "
                        "epoch, W2 100, W3 100; --quick 3)")
    p.add_argument("--quick", action="store_true", help="a smoke run: few steps, short windows, 1 repetition")
    p.add_argument("--accuracy", action="store_true",
                   help="W1/W2 test accuracy after 5 / 3 epochs instead, seed --seed + repetition")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--peak-gflops", type=float,
                   help="FP32 FMA peak of one core (default: measured by `dendrite bench --probe-peak`)")
    p.add_argument("--busy-threshold", type=float, default=0.25,
                   help="cores' worth of other work before a run that counts as busy (default 0.25)")
    p.add_argument("--dendrite", default=os.path.join(ROOT, "build", "bin", "dendrite"))
    p.add_argument("--python", default="/usr/bin/python3", help="the interpreter with torch")
    p.add_argument("--data", help="Fashion-MNIST directory (default: each side's default)")
    p.add_argument("--no-torch", action="store_true", help="Dendrite's side only")
    p.add_argument("--torch-lib-path", help="prepended to LD_LIBRARY_PATH for PyTorch's runs only, e.g. a "
                                            "directory with OpenBLAS's libblas.so.3 where the system has none")
    p.add_argument("--out", default=os.path.join(HERE, "results.json"))
    p.add_argument("--markdown", help="also write the table to this file")
    p.add_argument("--timeout", type=int, default=3600, help="seconds per run")
    p.add_argument("--skip-missing", action="store_true", help=f"exit {SKIP} when PyTorch or the data is missing")
    args = p.parse_args()
    args.workload = [w.strip().upper() for w in args.workload.split(",") if w.strip()]
    args.threads = [int(t) for t in (args.threads or ("2" if args.accuracy else "1,2")).split(",") if t.strip()]
    if args.accuracy:
        args.grid = "minimal"  # accuracy does not depend on threading: one configuration per side
    args.reps = args.reps or (1 if args.quick or args.accuracy else 3)
    steps = {"W1": 468, "W2": 100, "W3": 100} if not args.quick else {"W1": 3, "W2": 3, "W3": 3}
    for s in args.steps:
        w, _, n = s.partition("=")
        steps[w.strip().upper()] = int(n)
    args.steps = steps
    return args


def main():
    args = parse_args()
    check_prerequisites(args)
    listing = subprocess.run([args.dendrite, "bench", "--list", "--json"], capture_output=True, text=True, check=True)
    catalogue = [json.loads(line) for line in listing.stdout.splitlines() if line.strip()]
    available = {c["workload"] for c in catalogue if c["available"]}
    missing = {c["workload"]: c["missing"] for c in catalogue if not c["available"]}
    unknown = [w for w in args.workload if w not in available and w not in missing]
    if unknown:
        sys.exit(f"bench/run.py: unknown workload {', '.join(unknown)}; known: {', '.join(c['workload'] for c in catalogue)}")

    if args.peak_gflops is None:  # one figure for both sides, measured before any other work starts
        probe = subprocess.run([args.dendrite, "bench", "--probe-peak", "--json"], capture_output=True, text=True,
                               check=True)
        measured = json.loads(probe.stdout)
        args.peak_gflops, args.peak_source = measured["fma_peak_gflops"], f"measured, {measured['isa']}"
    else:
        args.peak_source = "given"
    started = datetime.datetime.now().astimezone()
    load_start = os.getloadavg()
    print(f"bench/run.py: {started:%Y-%m-%d %H:%M %Z}, load average {load_start[0]:.2f} {load_start[1]:.2f} "
          f"{load_start[2]:.2f}, {os.cpu_count()} CPUs; FP32 FMA peak {args.peak_gflops:.1f} GFLOP/s a core "
          f"({args.peak_source})", flush=True)
    if load_start[0] > 0.5:
        print(f"warning: load average {load_start[0]:.2f}: the machine is busy; figures will be noisy "
              "(repeat on a quiet machine for clean numbers)", flush=True)

    records, busy_runs, total_runs = [], 0, 0
    for rep in range(args.reps):
        for group in build_jobs(args, available, rep):
            shift = rep % len(group) if group else 0
            for job in group[shift:] + group[:shift]:
                job["rep"] = rep
                got = run_job(job, args.timeout)
                total_runs += 1
                if got and got[0]["cpu_busy_before"] > args.busy_threshold:
                    busy_runs += 1
                for r in got:
                    print(f"  rep {rep + 1}/{args.reps}  {r['impl']:<8} {r['config']:<28} {r['key']:<18} "
                          f"threads {r['run_threads']}  {r['value']:>12.{4 if r['unit'] == 'accuracy' else 1}f} {r['unit']}"
                          f"{'  (busy: %.2f cores)' % r['cpu_busy_before'] if r['cpu_busy_before'] > args.busy_threshold else ''}",
                          flush=True)
                records.extend(got)

    results = report.aggregate(records, missing)
    table = report.markdown(results, missing, args.peak_gflops)
    meta = {
        "date": started.isoformat(timespec="seconds"),
        "command": shlex.join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
        "busy_runs": busy_runs,
        "total_runs": total_runs,
        "busy_threshold_cores": args.busy_threshold,
        "cpus": os.cpu_count(),
        "peak_gflops_per_core": args.peak_gflops,
        "peak_source": args.peak_source,
        "reps": args.reps,
        "threads": args.threads,
        "grid": args.grid,
        "steps": args.steps,
        "quick": args.quick,
        "pytorch_configs": {t: {name: {"torch_threads": tt, "env": env, "openblas_pins_kept": keep}
                                for name, tt, env, keep in torch_configs(t, args.grid)} for t in args.threads},
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"meta": meta, "results": results, "table": table, "runs": records}, f, indent=1)
        f.write("\n")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    print()
    print(table, end="")
    print(f"\n{busy_runs} of {total_runs} runs started with more than {args.busy_threshold} cores busy elsewhere; "
          f"load average {load_start[0]:.2f} at the start, {meta['load_average_end'][0]:.2f} at the end. "
          f"Wrote {os.path.relpath(args.out)}.")
    if not records:
        sys.exit("bench/run.py: no run produced a result")


if __name__ == "__main__":
    main()
