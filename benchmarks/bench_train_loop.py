"""Steps per second of initlab's training loop against a plain hand-written PyTorch loop.

Both loops train the same model (same weights, copied) on the same data with the same batch
order, optimizer and loss; the plain loop is what one writes by hand (randperm, index, forward,
cross-entropy, zero_grad, backward, step; test accuracy after every epoch). initlab's loop
(:func:`initlab.lab.train.train`) adds reading each loss as a float (for the record and the
divergence check) and its bookkeeping. The runs alternate (plain, initlab, plain, …) and the best
of ``--repeat`` is reported, so both see the same machine load. Target: ratio ≤ 1.1.

    python benchmarks/bench_train_loop.py [--dataset mnist] [--depth 5] [--width 256]
        [--epochs 2] [--repeat 5] [--threads 1] [--json]
"""

from __future__ import annotations

import argparse
import copy
import json
import time

import torch
import torch.nn.functional as F

from initlab.lab.data import Split, load_dataset
from initlab.lab.starts import apply_start
from initlab.lab.train import train
from initlab.lab.zoo import build_model


def plain_loop(model: torch.nn.Module, data: Split, epochs: int, lr: float, batch_size: int,
               seed: int) -> float:
    """The hand-written reference: SGD with momentum 0.9, cross-entropy, eval per epoch."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    g = torch.Generator().manual_seed(seed)
    n = data.x_train.shape[0]
    acc = 0.0
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            loss = F.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = float((model(data.x_test).argmax(1) == data.y_test).float().mean())
    return acc


def measure(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    data = load_dataset(args.dataset)
    base = build_model(args.model, data.input_shape, data.out_features, depth=args.depth,
                       width=args.width, activation="relu")
    apply_start(base, "he", data.x_train[:256], seed=0)
    steps = args.epochs * -(-data.x_train.shape[0] // args.batch_size)
    times = {"plain": [], "initlab": []}
    accs = {}
    for _ in range(args.repeat):
        for name in ("plain", "initlab"):
            model = copy.deepcopy(base)
            t0 = time.perf_counter()
            if name == "plain":
                accs[name] = plain_loop(model, data, args.epochs, args.lr, args.batch_size, 0)
            else:
                accs[name] = train(model, data, epochs=args.epochs, lr=args.lr,
                                   batch_size=args.batch_size, seed=0).final_test_accuracy
            times[name].append(time.perf_counter() - t0)
    best = {k: min(v) for k, v in times.items()}
    return {
        "dataset": args.dataset, "model": args.model, "depth": args.depth, "width": args.width,
        "epochs": args.epochs, "batch_size": args.batch_size, "steps": steps,
        "threads": args.threads, "repeat": args.repeat,
        "plain_s": best["plain"], "initlab_s": best["initlab"],
        "plain_steps_per_s": steps / best["plain"], "initlab_steps_per_s": steps / best["initlab"],
        "ratio": best["initlab"] / best["plain"],
        "same_accuracy": abs(accs["plain"] - accs["initlab"]) < 1e-6,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--model", default="mlp")
    p.add_argument("--depth", type=int, default=5)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    r = measure(args)
    if args.json:
        print(json.dumps(r))
        return
    print(f"{r['model']} depth {r['depth']} width {r['width']} on {r['dataset']}, {r['steps']} "
          f"steps, batch {r['batch_size']}, {r['threads']} thread(s), best of {r['repeat']}")
    for key, what in (("plain", "plain PyTorch loop"), ("initlab", "initlab train()   ")):
        print(f"  {what} : {r[key + '_s']:.3f} s  ({r[key + '_steps_per_s']:.0f} steps/s)")
    print(f"  ratio initlab / plain: {r['ratio']:.3f}  (target ≤ 1.1); same final accuracy: "
          f"{r['same_accuracy']}")


if __name__ == "__main__":
    main()
