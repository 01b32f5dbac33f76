"""plan + init + doctor over the real-model set (tests/real/models.py), per-model times.

Side by side: initlab.init against the model's own initialization run the same way
(Hugging Face ``model.init_weights()`` with every parameter's ``_is_hf_initialized`` flag cleared
so it really redraws; ``reset_parameters()`` on every module for the hand-written ones).

Run: OMP_NUM_THREADS=1 PYTHONPATH=src:. python benchmarks/bench_real_models.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")

import torch  # noqa: E402
from tests.real.models import ALL_NAMES, build  # noqa: E402

import initlab  # noqa: E402


def own_init(model: torch.nn.Module) -> None:
    """The model's own initialization, forced to redraw every parameter."""
    if hasattr(model, "init_weights") and hasattr(model, "config"):
        for p in model.parameters():
            p._is_hf_initialized = False  # type: ignore[attr-defined]
        for m in model.modules():
            m._is_hf_initialized = False  # type: ignore[attr-defined]
        model.init_weights()
        return
    for m in model.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("models", nargs="*", default=list(ALL_NAMES))
    a = ap.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, best of {a.repeat}")
    head = f"{'model':14s} {'params':>8s} {'plan s':>8s} {'init s':>8s} {'own s':>8s} " \
           f"{'init/own':>8s} {'doctor s':>8s}  verdict"  # fmt: skip
    print(head)
    tot = [0.0, 0.0, 0.0, 0.0]
    for name in a.models:
        r = build(name)
        m, x = r.model, r.example
        n = sum(p.numel() for p in m.parameters())
        t_plan = best(lambda: initlab.plan(m, x), a.repeat)  # noqa: B023
        t_init = best(lambda: initlab.init(m, x), a.repeat)  # noqa: B023
        t_own = best(lambda: own_init(m), a.repeat)  # noqa: B023
        initlab.init(m, x)
        box: dict[str, initlab.Diagnosis] = {}

        def run_doctor() -> None:
            box["d"] = initlab.doctor(m, x, loss_fn=lambda out: r.loss(out))  # noqa: B023

        t_doc = best(run_doctor, a.repeat)
        for i, v in enumerate((t_plan, t_init, t_own, t_doc)):
            tot[i] += v
        print(f"{name:14s} {n:8d} {t_plan:8.3f} {t_init:8.3f} {t_own:8.3f} "
              f"{t_init / t_own:8.1f} {t_doc:8.3f}  {box['d'].verdict}")  # fmt: skip
    print(f"{'total':14s} {'':8s} {tot[0]:8.3f} {tot[1]:8.3f} {tot[2]:8.3f} "
          f"{tot[1] / tot[2]:8.1f} {tot[3]:8.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
