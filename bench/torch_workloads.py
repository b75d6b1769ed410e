#!/usr/bin/python3
"""PyTorch's side of the reference workloads (BENCHMARKS.md): W1, W2, W3, W4, W5.

The same work as `dendrite bench` (src/dendrite/cli/bench_*.cpp), measured the same way and printed
in the same JSON-lines schema (src/dendrite/cli/bench_record.h), so bench/run.py reads both alike.

    /usr/bin/python3 bench/torch_workloads.py --workload W1,W4 --threads 2 --json

Run it with Debian's /usr/bin/python3 (python3-torch); it needs only torch and numpy. Threading is
the caller's business: --torch-threads sets torch.set_num_threads, while OpenMP's wait policy and
OpenBLAS's thread count come from the environment (OMP_WAIT_POLICY, OPENBLAS_NUM_THREADS), which
bench/run.py sets per configuration, running this under `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`.
--threads is the thread budget the figure is reported under (and the peak it is divided by).

Workloads (identical definitions on both sides):
  W1  MLP 784-512-512-10 (ReLU), batch 128, SGD lr 0.05 momentum 0.9, cross-entropy, Fashion-MNIST.
  W2  conv(1->32,3x3)+ReLU+maxpool2, conv(32->64,3x3)+ReLU+maxpool2, flatten, fc(1600->128)+ReLU,
      fc(128->10); batch 64; Adam lr 1e-3.
      A training step gathers its batch from a shuffled index order (reshuffled each epoch, last
      partial batch dropped), then forward, loss, backward, optimiser. Samples/s after --warmup
      steps over --steps steps (W1 default: one epoch; W2: 100). --accuracy: test accuracy after
      5 (W1) / 3 (W2) epochs.
  W3  LSTM seq2seq: source vocabulary 30, target 45, embeddings 64, encoder LSTM 256 over 12 steps,
      decoder LSTM 256 started from the encoder's final state, teacher forcing over 12 steps, a
      linear layer to the 45 classes, cross-entropy, batch 64, Adam lr 1e-3. Synthetic reverse-copy
      data: 65,536 source sequences of 12 tokens uniform in [0, 30) (seeded); target t is
      source[11 - t] + 10; decoder input is BOS (44) followed by the target shifted right.
      Sequences/s (default 100 timed steps).
  W4  GEMM 128x784x512, 512^3, 1024^3 f32 with torch.matmul: GFLOP/s of the median round.
  W5  batch-1 inference of the W1 and W2 networks in eval mode under no_grad: median latency per
      call, eager and TorchScript (scripted and frozen), each its own record.
"""

import argparse
import gzip
import json
import math
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

FMA_PEAK_GFLOPS_PER_CORE = 266.0  # the development machine of BENCHMARKS.md; bench/run.py passes the measured one
FASHION_DIR = "/usr/share/datasets/fashion-mnist"


# ---------------------------------------------------------------- models and their FLOP counts


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))


class Seq2Seq(nn.Module):
    def __init__(self, vocab_in=30, vocab_out=45, embed=64, hidden=256):
        super().__init__()
        self.src_embed = nn.Embedding(vocab_in, embed)
        self.tgt_embed = nn.Embedding(vocab_out, embed)
        self.encoder = nn.LSTM(embed, hidden, batch_first=True)
        self.decoder = nn.LSTM(embed, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab_out)

    def forward(self, src, tgt_in):
        _, state = self.encoder(self.src_embed(src))
        h, _ = self.decoder(self.tgt_embed(tgt_in), state)
        return self.out(h)


# Forward FLOPs per example (2 per multiply-add); a training step is the forward pass, the weight
# gradients (as much again) and the input gradients of every layer but the first.
MLP_LAYERS = [(784, 512), (512, 512), (512, 10)]
MLP_FORWARD = 2 * sum(i * o for i, o in MLP_LAYERS)
MLP_TRAINING = 3 * MLP_FORWARD - 2 * 784 * 512
CONV1_MACS, CONV2_MACS = 1 * 9 * 32 * 26 * 26, 32 * 9 * 64 * 11 * 11
CNN_FORWARD = 2 * (CONV1_MACS + CONV2_MACS + 1600 * 128 + 128 * 10)
CNN_TRAINING = 3 * CNN_FORWARD - 2 * CONV1_MACS
SEQ_FORWARD = 24 * 2 * 4 * 256 * (64 + 256) + 12 * 2 * 256 * 45
SEQ_TRAINING = 3 * SEQ_FORWARD


# ---------------------------------------------------------------- data


def read_idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def fashion_mnist(directory):
    def split(prefix):
        images = read_idx(os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz"), 16)
        labels = read_idx(os.path.join(directory, f"{prefix}-labels-idx1-ubyte.gz"), 8)
        x = torch.from_numpy(images.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
        return x, torch.from_numpy(labels.astype(np.int64))

    return split("train"), split("t10k")


def reverse_copy_data(seed, count=65536):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(0, 30, (count, 12), generator=g)
    tgt = src.flip(1) + 10
    tgt_in = torch.cat([torch.full((count, 1), 44, dtype=torch.int64), tgt[:, :-1]], dim=1)
    return src, tgt_in, tgt


class BatchOrder:
    """Batches of `batch` indices in a fresh random order every epoch, the last partial one dropped."""

    def __init__(self, examples, batch, seed):
        if examples < batch:
            sys.exit(f"torch_workloads: {examples} training examples, fewer than a batch of {batch}")
        self.examples, self.batch = examples, batch
        self.generator = torch.Generator().manual_seed(seed)
        self.per_epoch = examples // batch
        self.next_batch = self.per_epoch

    def next(self):
        if self.next_batch == self.per_epoch:
            self.order = torch.randperm(self.examples, generator=self.generator)
            self.next_batch = 0
        i = self.next_batch
        self.next_batch += 1
        return self.order[i * self.batch:(i + 1) * self.batch]


# ---------------------------------------------------------------- records


def record(args, key, name, metric, unit, value, higher_is_better=True, threads=None, config=None, **extras):
    r = {"key": key, "workload": key.split("/")[0], "name": name, "impl": "pytorch",
         "config": config or args.config, "metric": metric, "unit": unit, "value": value,
         "higher_is_better": higher_is_better, "threads": threads or args.threads}
    r.update(extras)
    r["torch_threads"] = torch.get_num_threads()
    r["torch_version"] = torch.__version__
    r["blas"] = args.blas
    r["load_average"] = args.load_average
    return r


def blas_library():
    """The BLAS that torch's fp32 matmuls run on: Debian's libtorch takes whichever libblas.so.3
    the alternatives system (or LD_LIBRARY_PATH) provides. The reference BLAS (libblas3, what a
    --no-install-recommends install leaves) is ~30x slower than OpenBLAS: not PyTorch at its best."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "blas" in line.split()[-1]}
    for kind in ("openblas", "blis", "mkl", "atlas"):
        if any(kind in os.path.basename(p) for p in paths):
            return kind
    return "reference" if paths else "none"


def max_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def peak(args, threads=None):
    return args.peak_gflops * (threads or args.threads)


# ---------------------------------------------------------------- W1, W2, W3: training


def train_loop(spec, model, optimizer, dataset, seed, warmup, steps):
    """Runs `warmup` untimed then `steps` timed steps; returns (samples/s, seconds, last loss).

    `dataset` is a tuple of tensors indexed by example: the model's inputs, then the targets."""
    targets = dataset[-1]
    order = BatchOrder(len(targets), spec["batch"], seed)

    def step(idx):
        out = model(*(t[idx] for t in dataset[:-1]))
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), targets[idx].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss

    for _ in range(warmup):
        step(order.next())
    start = time.perf_counter()
    for _ in range(steps):
        loss = step(order.next())
    seconds = time.perf_counter() - start
    return steps * spec["batch"] / seconds, seconds, loss.item()


def accuracy(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for begin in range(0, len(y), 1000):
            correct += (model(x[begin:begin + 1000]).argmax(1) == y[begin:begin + 1000]).sum().item()
    model.train()
    return correct / len(y)


TRAINING = {
    "W1": {"name": "MLP 784-512-512-10 training, SGD", "batch": 128, "steps": 0, "epochs": 5, "flops": MLP_TRAINING,
           "model": mlp, "opt": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)},
    "W2": {"name": "CNN 2 conv + 2 fc training, Adam", "batch": 64, "steps": 100, "epochs": 3, "flops": CNN_TRAINING,
           "model": cnn, "opt": lambda p: torch.optim.Adam(p, lr=1e-3)},
    "W3": {"name": "LSTM seq2seq training, Adam", "batch": 64, "steps": 100, "epochs": 0, "flops": SEQ_TRAINING,
           "model": Seq2Seq, "opt": lambda p: torch.optim.Adam(p, lr=1e-3)},
}


def run_training(args, workload, data):
    spec = TRAINING[workload]
    torch.manual_seed(args.seed)
    model = spec["model"]()
    optimizer = spec["opt"](model.parameters())
    if workload == "W3":
        dataset = reverse_copy_data(args.seed)
    else:
        (x, y), (tx, ty) = data()
        dataset = (x, y)

    per_epoch = len(dataset[-1]) // spec["batch"]
    if args.accuracy and workload != "W3":
        if args.quick:  # a smoke test of the mode, not a figure: a slice of the data
            dataset, tx, ty = (x[:2048], y[:2048]), tx[:1000], ty[:1000]
            per_epoch = len(dataset[-1]) // spec["batch"]
        epochs = args.epochs or (1 if args.quick else spec["epochs"])
        rate, seconds, loss = train_loop(spec, model, optimizer, dataset, args.seed, 0, epochs * per_epoch)
        return [record(args, f"{workload}/accuracy", spec["name"], "test_accuracy", "accuracy",
                       accuracy(model, tx, ty), epochs=epochs, seed=args.seed, train_examples=len(dataset[1]),
                       test_examples=len(ty), seconds=seconds, loss=loss, samples_per_s=rate,
                       max_rss_mb=max_rss_mb())]

    steps = per_epoch if args.full_epoch else (args.steps or spec["steps"] or per_epoch)
    rate, seconds, loss = train_loop(spec, model, optimizer, dataset, args.seed, args.warmup, steps)
    gflops = rate * spec["flops"] / 1e9
    metric, unit = ("sequences_per_s", "sequences/s") if workload == "W3" else ("samples_per_s", "samples/s")
    return [record(args, workload, spec["name"], metric, unit, rate, batch=spec["batch"], warmup=args.warmup,
                   steps=steps, seconds=seconds, loss=loss, flop_per_sample=spec["flops"], gflops=gflops,
                   peak_gflops=peak(args), peak_fraction=gflops / peak(args), max_rss_mb=max_rss_mb())]


# ---------------------------------------------------------------- W4: GEMM


def run_gemm(args):
    records = []
    g = torch.Generator().manual_seed(args.seed)
    for m, k, n in [(128, 784, 512), (512, 512, 512), (1024, 1024, 1024)]:
        a, b = torch.randn(m, k, generator=g), torch.randn(k, n, generator=g)
        for _ in range(3):
            torch.matmul(a, b)
        start = time.perf_counter()
        torch.matmul(a, b)
        one = max(time.perf_counter() - start, 1e-7)
        calls = int(min(max((0.002 if args.quick else 0.01) / one, 1), 10000))
        rounds = []
        for _ in range(3 if args.quick else 21):
            start = time.perf_counter()
            for _ in range(calls):
                torch.matmul(a, b)
            rounds.append((time.perf_counter() - start) / calls)
        flops = 2.0 * m * k * n
        gflops = flops / statistics.median(rounds) / 1e9
        records.append(record(args, f"W4/{m}x{k}x{n}", f"GEMM {m}x{k}x{n} f32 (M x K x N)", "gflops", "GFLOP/s",
                              gflops, best_gflops=flops / min(rounds) / 1e9, rounds=len(rounds),
                              peak_gflops=peak(args), peak_fraction=gflops / peak(args)))
    return records


# ---------------------------------------------------------------- W5: batch-1 inference


def latencies(fn, x, quick):
    for _ in range(10 if quick else 200):
        fn(x)
    budget, min_calls, max_calls = (0.05, 20, 20000) if quick else (1.0, 200, 20000)
    times = []
    start = time.perf_counter()
    while len(times) < max_calls and (len(times) < min_calls or time.perf_counter() - start < budget):
        t = time.perf_counter()
        fn(x)
        times.append((time.perf_counter() - t) * 1e6)
    return times


def run_inference(args):
    torch.manual_seed(args.seed)
    x = torch.randn(1, 1, 28, 28)
    records = []
    for model_name, build, flops in [("mlp", mlp, MLP_FORWARD), ("cnn", cnn, CNN_FORWARD)]:
        model = build().eval()
        with torch.no_grad():
            variants = [("eager", model), ("torchscript_frozen", torch.jit.freeze(torch.jit.script(model)))]
            for variant, fn in variants:
                times = latencies(fn, x, args.quick)
                median = statistics.median(times)
                records.append(record(args, f"W5/{model_name}", f"batch-1 inference, {model_name}", "latency_us", "us",
                                      median, higher_is_better=False, config=f"{args.config}+{variant}",
                                      variant=variant, min_us=min(times), calls=len(times),
                                      gflops=flops / median / 1e3, max_rss_mb=max_rss_mb()))
    return records


# ---------------------------------------------------------------- command line


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workload", default="W1,W2,W3,W4,W5", help="comma-separated, e.g. W1,W4")
    p.add_argument("--threads", type=int, default=1, help="the thread budget the figures are reported under")
    p.add_argument("--torch-threads", type=int, help="torch.set_num_threads (default: --threads)")
    p.add_argument("--config", default="default", help="a name for the threading configuration, recorded")
    p.add_argument("--steps", type=int, help="timed training steps (default: W1 one epoch, W2 and W3 100)")
    p.add_argument("--warmup", type=int, help="untimed training steps first (default 20)")
    p.add_argument("--full-epoch", action="store_true", help="time one whole epoch of W1/W2")
    p.add_argument("--accuracy", action="store_true", help="test accuracy of W1/W2 after 5 / 3 epochs")
    p.add_argument("--epochs", type=int, help="epochs of an --accuracy run")
    p.add_argument("--quick", action="store_true", help="a smoke run: few steps, short timing windows")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--peak-gflops", type=float, default=FMA_PEAK_GFLOPS_PER_CORE, help="FMA peak of one core")
    p.add_argument("--data", default=FASHION_DIR, help="Fashion-MNIST directory (the four .gz files)")
    p.add_argument("--json", action="store_true", help="one JSON object per result and line")
    args = p.parse_args()
    if args.warmup is None:
        args.warmup = 2 if args.quick else 20
    if args.steps is None and args.quick and not args.full_epoch:
        args.steps = 5
    args.load_average = os.getloadavg()[0]
    args.blas = blas_library()
    if args.blas == "reference":
        print("torch_workloads: warning: torch runs on the reference BLAS (libblas3); install OpenBLAS "
              "(Debian: libopenblas0-pthread) for PyTorch's real speed", file=sys.stderr)
    torch.set_num_threads(args.torch_threads or args.threads)

    cache = {}

    def data():
        if "fashion" not in cache:
            cache["fashion"] = fashion_mnist(args.data)
        return cache["fashion"]

    runners = {"W1": lambda: run_training(args, "W1", data), "W2": lambda: run_training(args, "W2", data),
               "W3": lambda: run_training(args, "W3", data), "W4": lambda: run_gemm(args),
               "W5": lambda: run_inference(args)}
    workloads = [w.strip().upper() for w in args.workload.split(",") if w.strip()]
    for w in workloads:
        if w not in runners:
            sys.exit(f"torch_workloads: unknown workload '{w}'; valid workloads: {', '.join(runners)}")
    for w in workloads:
        for r in runners[w]():
            if args.json:
                print(json.dumps({k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                                  for k, v in r.items()}), flush=True)
            else:
                print(f"{r['key']:<16} {r['name']:<44} {r['value']:>12.1f} {r['unit']:<12} ({r['config']}, "
                      f"threads {r['threads']}, torch threads {r['torch_threads']})", flush=True)


if __name__ == "__main__":
    main()
