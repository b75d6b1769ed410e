#!/usr/bin/python3
"""PyTorch's side of W6 (BENCHMARKS.md): W1 trained with synchronous data parallelism.

    /usr/bin/python3 bench/torch_ddp.py --procs 2 --threads 1 --json

W1: MLP 784-512-512-10 (ReLU), global batch 128, SGD lr 0.05 momentum 0.9, cross-entropy,
Fashion-MNIST (pixels / 255, as bench/torch_workloads.py). --procs 2 starts two processes (gloo
backend, rendezvous through a file), each with --threads threads (torch.set_num_threads and
OPENBLAS_NUM_THREADS, PyTorch's best configuration on this machine), wrapped in
DistributedDataParallel; every process shuffles the same global order and trains on its
contiguous part of each global batch of 128 (what `dendrite train --dist allreduce` does).
--procs 1 is plain single-process training, no DDP: the baseline of the scaling efficiency.

Samples/s (global) over --steps steps after --warmup steps, timed on rank 0 between two barriers;
bench/dist_bench.py measures Dendrite over the same steps. Prints one line of JSON with --json.
"""

import argparse
import json
import os
import sys
import tempfile
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--procs", type=int, default=2, help="processes (1: no DDP)")
    p.add_argument("--threads", type=int, default=1, help="threads per process")
    p.add_argument("--batch", type=int, default=128, help="global batch")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true")
    return p.parse_args()


def worker(rank, args, init_file, results):
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from torch_workloads import FASHION_DIR, BatchOrder, fashion_mnist, mlp

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    (x, y), _ = fashion_mnist(FASHION_DIR)
    model = mlp()
    if args.procs > 1:
        dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=args.procs)
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    order = BatchOrder(len(y), args.batch, args.seed)  # the same global order on every rank
    local = args.batch // args.procs

    def step():
        idx = order.next()[rank * local:(rank + 1) * local]
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    def barrier():
        if args.procs > 1:
            dist.barrier()

    for _ in range(args.warmup):
        step()
    barrier()
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        results.put({"impl": "pytorch", "procs": args.procs, "threads": args.threads, "steps": args.steps,
                     "warmup": args.warmup, "seconds": seconds, "samples_per_sec": args.steps * args.batch / seconds,
                     "loss": loss.item(), "torch_version": torch.__version__})
    if args.procs > 1:
        dist.destroy_process_group()


def main():
    args = parse()
    if args.batch % args.procs:
        sys.exit(f"torch_ddp: the batch {args.batch} must divide among {args.procs} processes")
    # Before torch is imported anywhere: OpenBLAS reads it when it loads.
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    with tempfile.TemporaryDirectory() as tmp:
        init_file = os.path.join(tmp, "rendezvous")
        if args.procs == 1:
            worker(0, args, init_file, results)
        else:
            mp.spawn(worker, args=(args, init_file, results), nprocs=args.procs, join=True)
        r = results.get(timeout=5)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"PyTorch {r['torch_version']}, {args.procs} process(es) x {args.threads} thread(s): "
              f"{r['samples_per_sec']:.0f} samples/s over {args.steps} steps")


if __name__ == "__main__":
    main()
