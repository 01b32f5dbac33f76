"""Cost of ``initlab.lab.coordcheck.coord_check`` vs ``mup.coord_check.get_coord_data`` (the
reference implementation of Yang et al. 2022's coordinate check), on the same models, data,
widths, steps and seeds, side by side in one run; and the slopes both give, as a cross-check.

Model: an MLP 64 → w → w → 10 (ReLU) on one batch of 64 bundled digits, Adam lr 1e-2.

* **mup SP**: ``get_coord_data(models, loader, optimizer="adam", mup=False)`` on plain models;
* **mup μP**: the same MLP with ``mup.MuReadout`` as its last layer, ``set_base_shapes(model,
  base, delta=delta)`` for every model, ``MuAdam`` (``mup=True``): what a user of ``mup`` writes;
* **initlab**: ``coord_check(mlp, widths, policies=("torch", "mup"))`` on the plain MLP: μP from
  two meta-device builds, init, parameter groups, the recording, the slope fits and verdicts.

``mup`` (pip install --no-deps mup: its ``torchvision`` requirement would replace a CPU torch)
is a benchmark-only dependency. Both record mean|x| of every module's output at every step.

    python benchmarks/bench_coordcheck.py               # widths 64..1024, 3 steps, 3 seeds
    python benchmarks/bench_coordcheck.py --quick
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import time

import torch
from torch import nn

from initlab.lab.coordcheck import coord_check
from initlab.lab.data import load_digits_split


def mlp(width: int) -> nn.Module:
    return nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, 10))


def mup_models(widths: tuple[int, ...], use_mup: bool) -> dict[int, object]:
    from mup import MuReadout, set_base_shapes

    def build(w: int) -> nn.Module:
        if not use_mup:
            return mlp(w)
        return nn.Sequential(nn.Linear(64, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(),
                             MuReadout(w, 10))

    def lazy(w: int):
        def make() -> nn.Module:
            m = build(w)
            if use_mup:
                set_base_shapes(m, build(widths[0]), delta=build(widths[1]))
            return m
        return make

    return {w: lazy(w) for w in widths}


def run_mup(widths, steps, seeds, batch, use_mup):
    from mup.coord_check import get_coord_data

    return get_coord_data(mup_models(widths, use_mup), [batch], optimizer="adam", lr=1e-2,
                          mup=use_mup, nsteps=steps, nseeds=seeds, cuda=False,
                          show_progress=False)


def mup_slope(df, module: str, t: int) -> float:
    """Slope of log mean l1 (over seeds) against log width, from mup's DataFrame (t from 1)."""
    sub = df[(df.module == module) & (df.t == t)].groupby("width")["l1"].mean()
    xs = [math.log(w) for w in sub.index]
    ys = [math.log(v) for v in sub.values]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((a - mx) * (b - my) for a, b in zip(xs, ys, strict=True)) / sum(
        (a - mx) ** 2 for a in xs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    widths = (64, 128, 256) if a.quick else (64, 128, 256, 512, 1024)
    steps, seeds = (2, 1) if a.quick else (3, 3)
    reps = 1 if a.quick else a.repeats
    d = load_digits_split(seed=0)
    batch = (d.x_train[:64], d.y_train[:64])
    try:
        import mup  # noqa: F401
    except ImportError:
        print("mup is not installed: pip install --no-deps mup (benchmark-only)")
        return
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{a.threads} thread(s); widths {widths}, {steps} steps, {seeds} seeds, "
          f"{reps} repeats (medians)")
    times: dict[str, list[float]] = {"mup SP": [], "mup μP": [], "mup SP+μP": [],
                                     "initlab torch+mup": []}
    dfs = {}
    res = None
    run_mup(widths[:2], 1, 1, batch, False)  # warm-up: imports, allocator, first-call costs
    run_mup(widths[:2], 1, 1, batch, True)
    coord_check(mlp, widths[:2], steps=1, seeds=1)
    for _ in range(reps):
        t0 = time.perf_counter()
        dfs["sp"] = run_mup(widths, steps, seeds, batch, False)
        t1 = time.perf_counter()
        dfs["mup"] = run_mup(widths, steps, seeds, batch, True)
        t2 = time.perf_counter()
        res = coord_check(mlp, widths, steps=steps, seeds=seeds, lr=1e-2)
        t3 = time.perf_counter()
        times["mup SP"].append(t1 - t0)
        times["mup μP"].append(t2 - t1)
        times["mup SP+μP"].append(t2 - t0)
        times["initlab torch+mup"].append(t3 - t2)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:>20s}: {v * 1000:8.1f} ms")
    ratio = med["initlab torch+mup"] / med["mup SP+μP"]
    print(f"initlab / mup (both parametrizations): {ratio:.2f}×")
    assert res is not None
    print("\nslopes of log mean|x| vs log width (hidden layer '2', readout '4'):")
    print(f"{'':>10s} {'step':>4s} {'mup SP':>8s} {'initlab torch':>14s} {'mup μP':>8s} "
          f"{'initlab mup':>12s}")
    for layer in ("2", "4"):
        for t in range(steps):
            print(f"{'layer ' + layer:>10s} {t:>4d} {mup_slope(dfs['sp'], layer, t + 1):8.2f} "
                  f"{res.slope('torch', layer, t).slope:14.2f} "
                  f"{mup_slope(dfs['mup'], layer, t + 1):8.2f} "
                  f"{res.slope('mup', layer, t).slope:12.2f}")
    print(f"\ninitlab verdicts: {res.verdicts}")


if __name__ == "__main__":
    main()
