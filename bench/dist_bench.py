#!/usr/bin/python3
"""Distributed training measurements of issue 6 (docs/dist.md), in one command:

    python3 bench/dist_bench.py --build build-dist            # everything, 2 repeats
    python3 bench/dist_bench.py --only tta --repeats 1        # time to accuracy only
    python3 bench/dist_bench.py --only w6 --repeats 3         # W6 only

(a) time to accuracy: `dendrite train fashion-mlp --threads 1` with train.target_accuracy (0.88)
    and train.eval_every_steps, for 1 worker (a plain single process) and for 2 and 4 workers in
    each mode. Every rank runs 1 thread. "Workers" are the ranks that train: allreduce starts
    `-np W`; a parameter-server mode starts W workers plus --servers shard ranks (`-np W + S`).
    The job is stopped once rank 0 logs its {"kind":"target"} record (metrics.jsonl), and the time
    reported is the trainer's (summary.json's target_seconds: from the start of training, data
    loading excluded, evaluations included). A second, fixed-length run of each configuration
    (--throughput-examples examples, 1 epoch) gives samples/s and the shards' updates/s.
(b) W6: W1 (MLP 784-512-512-10, global batch 128, SGD momentum 0.9 lr 0.05, no dropout, no weight
    decay, constant lr, no input normalisation) on `mpirun -np 2 ... --dist allreduce --threads 1`
    against PyTorch DDP (bench/torch_ddp.py, gloo, 2 processes x 1 thread), and 1 rank x 1 thread of
    each for the scaling efficiency. Both sides: global samples/s over --w6-steps steps after
    --w6-warmup steps (Dendrite: rank 0's metrics.jsonl "train" windows of --w6-warmup steps, the
    first window dropped; PyTorch: timed between barriers).

Prints Markdown tables and writes bench/dist_results.json (min / median of the repeats).
Run from the repository root; the machine's load is recorded beside the numbers.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_mpi_yield_when_idle": "1",
           "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
MPIRUN = ["mpirun", "--oversubscribe", "--bind-to", "none", "--mca", "btl", "self,vader"]
W1_SETS = ["model.dropout=0", "optim.weight_decay=0", "schedule.kind=none", "data.mean=[]", "data.std=[]"]
PS_MODES = ("ps-async", "ps-sync", "ps-ssp")


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build-dist", help="build directory holding bin/dendrite")
    p.add_argument("--only", choices=["tta", "w6"], help="one part only")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--workers", default="2,4", help="worker counts besides 1")
    p.add_argument("--modes", default="allreduce,ps-async,ps-sync,ps-ssp")
    p.add_argument("--target", type=float, default=0.88)
    p.add_argument("--epochs", type=int, default=5, help="the recipe's length (its cosine schedule spans it)")
    p.add_argument("--eval-every", type=int, default=100,
                   help="evaluate every N global batches of 128 (train.eval_every_steps; a parameter-server "
                        "worker's steps are 1/W of them, so it gets N / W)")
    p.add_argument("--servers", type=int, default=1)
    p.add_argument("--ps-args", default="--ps-optim adagrad --ps-lr 0.01",
                   help="parameter-server flags (the shards' rule and lr)")
    p.add_argument("--allreduce-args", default="",
                   help="extra flags for Dendrite's allreduce runs, e.g. \"--bucket-mb 4\"")
    p.add_argument("--tta-timeout", type=float, default=600, help="seconds before a run counts as not reaching it")
    p.add_argument("--throughput-examples", type=int, default=7680, help="examples of the fixed-length run")
    p.add_argument("--w6-repeats", type=int, help="repeats of W6 (default: --repeats)")
    p.add_argument("--w6-warmup", type=int, default=20)
    p.add_argument("--w6-steps", type=int, default=200)
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "dist_results.json"))
    return p.parse_args()


def load():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def env():
    e = dict(os.environ)
    e.update(MPI_ENV)
    return e


def dendrite_cmd(args, mode, workers, train_args):
    exe = os.path.join(ROOT, args.build, "bin", "dendrite")
    base = [exe, "train", "fashion-mlp", "--threads", "1"] + train_args
    if mode == "single":
        return base
    ranks = workers + (args.servers if mode in PS_MODES else 0)
    extra = ["--dist", mode]
    if mode in PS_MODES:
        extra += ["--servers", str(args.servers)] + args.ps_args.split()
    if mode == "allreduce":
        extra += args.allreduce_args.split()
    return MPIRUN + ["-np", str(ranks)] + base + extra


def read_records(path):
    records = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    pass  # a line being written
    except FileNotFoundError:
        pass
    return records


def stop(proc):
    """Ends the job (mpirun forwards SIGTERM to its ranks)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def time_to_accuracy(args, mode, workers, tmp):
    out = os.path.join(tmp, f"tta-{mode}-{workers}")
    shutil.rmtree(out, ignore_errors=True)
    eval_every = max(1, args.eval_every // workers) if mode in PS_MODES else args.eval_every
    cmd = dendrite_cmd(args, mode, workers, ["--epochs", str(args.epochs), "--out", out, "--set",
                                            f"train.target_accuracy={args.target}", "--set",
                                            f"train.eval_every_steps={eval_every}"])
    load_before = load()
    start = time.monotonic()
    err = open(os.path.join(tmp, "stderr.txt"), "w+")  # a file: a pipe nobody reads would fill and block
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=err, text=True, start_new_session=True)
    target = None
    while time.monotonic() - start < args.tta_timeout:
        target = next((r for r in read_records(os.path.join(out, "metrics.jsonl")) if r.get("kind") == "target"), None)
        if target is not None or proc.poll() is not None:
            break
        time.sleep(0.2)
    launch_seconds = time.monotonic() - start
    stop(proc)
    if target is None:  # the run may have ended between two polls
        target = next((r for r in read_records(os.path.join(out, "metrics.jsonl")) if r.get("kind") == "target"), None)
    err.seek(0)
    stderr = err.read()
    err.close()
    best = max((r.get("test_accuracy") or 0 for r in read_records(os.path.join(out, "metrics.jsonl"))
                if r.get("kind") in ("eval", "epoch")), default=None)
    result = {"mode": mode, "workers": workers, "reached": target is not None, "best_accuracy": best,
              "seconds_since_launch": launch_seconds, "load_before": load_before, "command": " ".join(cmd)}
    if target is not None:
        result.update(seconds=target["seconds"], train_seconds=target["train_seconds"], step=target["step"],
                      epoch=target["epoch"], samples=target["samples"], accuracy=target["test_accuracy"])
    elif proc.returncode not in (0, None, -signal.SIGTERM):
        result["error"] = stderr[-2000:]
    shutil.rmtree(out, ignore_errors=True)
    return result


def throughput(args, mode, workers, tmp):
    out = os.path.join(tmp, f"tp-{mode}-{workers}")
    shutil.rmtree(out, ignore_errors=True)
    cmd = dendrite_cmd(args, mode, workers, ["--epochs", "1", "--limit-train", str(args.throughput_examples),
                                            "--limit-test", "1000", "--out", out])
    r = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=args.tta_timeout)
    if r.returncode != 0:
        return {"mode": mode, "workers": workers, "error": r.stderr[-2000:]}
    with open(os.path.join(out, "summary.json")) as f:
        s = json.load(f)
    shutil.rmtree(out, ignore_errors=True)
    return {"mode": mode, "workers": workers,
            "samples_per_sec": s.get("samples_per_sec", s.get("train_samples_per_sec")),
            "server_updates_per_sec": s.get("server_updates_per_sec"), "dropped": s.get("dropped_gradients"),
            "command": " ".join(cmd)}


def dendrite_w6(args, ranks, tmp):
    out = os.path.join(tmp, f"w6-{ranks}")
    shutil.rmtree(out, ignore_errors=True)
    steps = args.w6_warmup + args.w6_steps
    train_args = ["--epochs", "1", "--batch", "128", "--lr", "0.05", "--limit-train", str(steps * 128),
                  "--limit-test", "1000", "--out", out, "--set", f"train.log_every={args.w6_warmup}"]
    for s in W1_SETS:
        train_args += ["--set", s]
    cmd = dendrite_cmd(args, "single" if ranks == 1 else "allreduce", ranks, train_args)
    r = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        sys.exit(f"dist_bench: {' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    windows = [rec for rec in read_records(os.path.join(out, "metrics.jsonl"))
               if rec.get("kind") == "train" and rec["step"] > args.w6_warmup]
    shutil.rmtree(out, ignore_errors=True)
    local = 128 // ranks * args.w6_warmup  # rank 0's samples per window
    seconds = sum(local / w["samples_per_sec"] for w in windows)
    return {"impl": "dendrite", "ranks": ranks, "steps": len(windows) * args.w6_warmup,
            "samples_per_sec": len(windows) * args.w6_warmup * 128 / seconds, "command": " ".join(cmd)}


def torch_w6(args, procs):
    cmd = ["/usr/bin/python3", os.path.join(ROOT, "bench", "torch_ddp.py"), "--procs", str(procs), "--threads", "1",
           "--warmup", str(args.w6_warmup), "--steps", str(args.w6_steps), "--json"]
    e = dict(os.environ)
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        e.pop(k, None)
    e.update(OMP_WAIT_POLICY="PASSIVE", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    r = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        sys.exit(f"dist_bench: {' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    result = json.loads(r.stdout.strip().splitlines()[-1])
    result["command"] = " ".join(cmd)
    return result


def summarise(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "n": len(values)}


def fmt(stat, spec=".1f", key="median"):
    return "n/a" if stat is None else f"{stat['min']:{spec}} / {stat[key]:{spec}}"


def run_tta(args, tmp):
    configs = [("single", 1)] + [(m, w) for m in args.modes.split(",") for w in map(int, args.workers.split(","))]
    runs, rates = [], []
    for rep in range(args.repeats):  # configurations interleaved, so that load drifts hit all alike
        for mode, workers in configs:
            r = time_to_accuracy(args, mode, workers, tmp)
            r["repeat"] = rep
            print(f"  tta {mode} x{workers}: " + (f"{r['seconds']:.1f} s, step {r['step']}" if r["reached"] else
                                                  f"not reached (best {r['best_accuracy']})"), file=sys.stderr)
            runs.append(r)
    for mode, workers in configs:
        rates.append(throughput(args, mode, workers, tmp))
        print(f"  throughput {mode} x{workers}: {rates[-1].get('samples_per_sec')}", file=sys.stderr)
    table = []
    for mode, workers in configs:
        mine = [r for r in runs if r["mode"] == mode and r["workers"] == workers]
        tp = next(t for t in rates if t["mode"] == mode and t["workers"] == workers)
        table.append({"mode": mode, "workers": workers, "reached": sum(r["reached"] for r in mine), "runs": len(mine),
                      "seconds": summarise([r.get("seconds") for r in mine]),
                      "train_seconds": summarise([r.get("train_seconds") for r in mine]),
                      "samples": summarise([r.get("samples") for r in mine]),
                      "samples_per_sec": tp.get("samples_per_sec"),
                      "server_updates_per_sec": tp.get("server_updates_per_sec")})
    print(f"\nTime to {args.target} test accuracy, fashion-mlp ({args.epochs}-epoch cosine schedule), 1 thread per "
          f"rank, evaluation every {args.eval_every} steps; min / median of {args.repeats}:\n")
    print("| mode | workers | ranks | reached | time to target (s) | samples seen (k) | samples/s | shard updates/s |")
    print("|---|---|---|---|---|---|---|---|")
    for t in table:
        ranks = t["workers"] + (args.servers if t["mode"] in PS_MODES else 0)
        samples = None if t["samples"] is None else {k: v / 1000 if k != "n" else v for k, v in t["samples"].items()}
        sps = "n/a" if t["samples_per_sec"] is None else f"{t['samples_per_sec']:.0f}"
        ups = "" if t["server_updates_per_sec"] is None else f"{t['server_updates_per_sec']:.0f}"
        print(f"| {t['mode']} | {t['workers']} | {ranks} | {t['reached']}/{t['runs']} | {fmt(t['seconds'])} | "
              f"{fmt(samples, '.0f')} | {sps} | {ups} |")
    return {"runs": runs, "throughput": rates, "table": table}


def run_w6(args):
    runs = []
    repeats = args.w6_repeats or args.repeats
    for rep in range(repeats):
        for name, fn in (("dendrite-1", lambda: dendrite_w6(args, 1, tmp_w6)),
                         ("pytorch-1", lambda: torch_w6(args, 1)),
                         ("dendrite-2", lambda: dendrite_w6(args, 2, tmp_w6)),
                         ("pytorch-2", lambda: torch_w6(args, 2))):
            r = fn()
            r.update(config=name, repeat=rep, load_before=load())
            print(f"  w6 {name}: {r['samples_per_sec']:.0f} samples/s", file=sys.stderr)
            runs.append(r)
    s = {name: summarise([r["samples_per_sec"] for r in runs if r["config"] == name])
         for name in ("dendrite-1", "pytorch-1", "dendrite-2", "pytorch-2")}
    med = {k: v["median"] for k, v in s.items()}
    derived = {"ratio_2_ranks": med["dendrite-2"] / med["pytorch-2"],
               "ratio_1_rank": med["dendrite-1"] / med["pytorch-1"],
               "dendrite_efficiency": med["dendrite-2"] / (2 * med["dendrite-1"]),
               "pytorch_efficiency": med["pytorch-2"] / (2 * med["pytorch-1"])}
    print(f"\nW6: W1 data parallel, global batch 128, samples/s over {args.w6_steps} steps after {args.w6_warmup} "
          f"warm-up steps; min / median of {repeats}:\n")
    print("| configuration | Dendrite | PyTorch | Dendrite / PyTorch |")
    print("|---|---|---|---|")
    for ranks in (1, 2):
        d, t = s[f"dendrite-{ranks}"], s[f"pytorch-{ranks}"]
        print(f"| {ranks} rank{'s' if ranks > 1 else ''} x 1 thread | {fmt(d, '.0f')} | {fmt(t, '.0f')} | "
              f"{d['median'] / t['median']:.2f}x |")
    print(f"| scaling efficiency (2 ranks / 2 x 1 rank) | {derived['dendrite_efficiency']:.0%} | "
          f"{derived['pytorch_efficiency']:.0%} | |")
    return {"runs": runs, "summary": s, "derived": derived}


def main():
    global tmp_w6
    args = parse()
    exe = os.path.join(ROOT, args.build, "bin", "dendrite")
    if not os.access(exe, os.X_OK):
        sys.exit(f"dist_bench: no {exe}; build it first (ninja -C {args.build} dendrite_command)")
    results = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpus": os.cpu_count(),
               "load_at_start": load(), "args": vars(args)}
    with tempfile.TemporaryDirectory(prefix="dist_bench_") as tmp:
        tmp_w6 = tmp
        if args.only in (None, "tta"):
            results["time_to_accuracy"] = run_tta(args, tmp)
        if args.only in (None, "w6"):
            results["w6"] = run_w6(args)
    results["load_at_end"] = load()
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    print(f"\n(load average {results['load_at_start']:.2f} at start, {results['load_at_end']:.2f} at end, "
          f"{results['cpus']} CPUs; results in {os.path.relpath(args.out, ROOT)})")


tmp_w6 = None

if __name__ == "__main__":
    main()
