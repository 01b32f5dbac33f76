"""initlab.init on a GPT (~350M parameters: GPT-2 medium shape) vs the model's own construction
and vs the floor (one ``normal_`` over a buffer of the same total size), measured side by side.

    python benchmarks/bench_model_init.py            # n_layer 24, n_embd 1024, vocab 50257
    python benchmarks/bench_model_init.py --small    # n_layer 4, n_embd 256, vocab 8192

Prints the median of ``--repeat`` runs of each and the two ratios. The plan (one traced forward
on the meta device) is timed separately from writing the weights.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import initlab
from initlab.lab.zoo import GPT, GPTConfig


def _time(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="a ~6M-parameter config")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.small:
        cfg = GPTConfig(block_size=256, vocab_size=8192, n_layer=4, n_head=4, n_embd=256)
    else:
        cfg = GPTConfig(block_size=1024, vocab_size=50257, n_layer=24, n_head=16, n_embd=1024)
    x = torch.zeros(1, 8, dtype=torch.long)

    construct = _time(lambda: GPT(cfg), args.repeat)
    model = GPT(cfg)
    n = sum(p.numel() for p in model.parameters())  # tied lm_head/wte counted once
    t0 = time.perf_counter()
    plan = initlab.plan(model, x)
    t_cold = time.perf_counter() - t0  # first call: imports, activation moments by quadrature
    t_plan = _time(lambda: initlab.plan(model, x), args.repeat)
    apply = _time(lambda: initlab.apply_plan(model, plan, seed=0), args.repeat)
    full = _time(lambda: initlab.init(model, x, seed=0), args.repeat)
    buf = torch.empty(n)
    floor = _time(lambda: buf.normal_(0.0, 0.02), args.repeat)
    buf = torch.empty(0)  # free the 1.4 GB before the meta path

    with torch.device("meta"):
        lazy = GPT(cfg)
    t0 = time.perf_counter()
    lazy.to_empty(device="cpu")
    lazy.transformer.wte.weight = lazy.lm_head.weight  # to_empty unties: tie again
    initlab.init(lazy, x, seed=0)
    meta_path = time.perf_counter() - t0
    same = all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                   lazy.state_dict().values(), strict=True))

    print(f"GPT n_layer={cfg.n_layer} n_embd={cfg.n_embd} vocab={cfg.vocab_size}: "
          f"{n / 1e6:.1f}M parameters, {torch.get_num_threads()} threads, median of {args.repeat}")
    print(f"  default construction GPT(cfg)          {construct:8.3f} s")
    print(f"  initlab.plan (meta trace + decisions)  {t_plan:8.3f} s  (first call {t_cold:.3f} s)")
    print(f"  initlab.apply_plan (write weights)     {apply:8.3f} s")
    print(f"  initlab.init (plan + apply)            {full:8.3f} s")
    print(f"  floor: one normal_ over {n / 1e6:.1f}M floats  {floor:8.3f} s")
    print(f"  meta build + to_empty + init           {meta_path:8.3f} s  (same weights: {same})")
    print(f"ratio init / default construction: {full / construct:.2f}")
    print(f"ratio init / floor:                 {full / floor:.2f}")
    print(f"ratio apply_plan / floor:           {apply / floor:.2f}")


if __name__ == "__main__":
    main()
