"""Cost of ``initlab.doctor`` vs a plain forward + backward, beside a fastai-style hook logger.

Three timings per model, interleaved (the order rotates every repeat, after warm-up), medians:

* **plain**: ``loss = (model(x) * v).sum(); torch.autograd.grad(loss, params)``, the same
  forward + backward the doctor does;
* **doctor**: ``initlab.doctor(model, x)`` (all statistics, duplicate-row checks, samples for the
  histograms, verdicts and findings, the single read-back);
* **item logger**: the plain pass with a forward hook on every leaf module and a tensor hook on
  every output that each call ``.item()`` per statistic (mean, std, near-zero share for the
  activations; mean, std of the gradients): the fastai ``ActivationStats`` / per-layer logging
  style, one host sync per statistic and layer.

Printed ratios: doctor / plain (target ≤ 1.5×) and item logger / plain. On a CPU a ``.item()``
costs no device sync, so the logger's ratio here is a lower bound of what it costs on a GPU.

Models, from :mod:`initlab.lab.zoo` (shared with the tests): the CIFAR ResNet (``zoo.resnet``:
BasicBlocks with BN, ``F.relu`` applied as a function, so the doctor's torch-function tap is
exercised, and an in-place residual add) on 32×32 images, and nanoGPT (``zoo.nano_gpt``: pre-LN
blocks, causal SDPA attention, GELU MLP, tied embeddings) on token ids.

    python benchmarks/bench_doctor.py                 # default sizes, 7 repeats
    python benchmarks/bench_doctor.py --quick         # smoke run (seconds)
    python benchmarks/bench_doctor.py --device cuda --repeats 11
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

import initlab
from initlab.lab import zoo


def plain(model: nn.Module, x: torch.Tensor) -> None:
    params = [p for p in model.parameters() if p.requires_grad]
    out = model(x)
    v = torch.randn_like(out)
    torch.autograd.grad((out * v).sum(), params)


def item_logger(model: nn.Module, x: torch.Tensor) -> list[tuple[float, ...]]:
    """fastai-style: per layer, one ``.item()`` per statistic (forward and gradient)."""
    log: list[tuple[float, ...]] = []
    handles = []

    def fwd(m: nn.Module, i: tuple, o: object) -> None:
        if isinstance(o, tuple):
            o = o[0]
        if not isinstance(o, torch.Tensor):
            return
        d = o.detach()
        log.append((d.mean().item(), d.std().item(), (d.abs() < 0.2).float().mean().item()))
        if o.requires_grad:
            o.register_hook(lambda g: log.append((g.mean().item(), g.std().item())))

    for m in model.modules():
        if next(iter(m.children()), None) is None:
            handles.append(m.register_forward_hook(fwd))
    try:
        plain(model, x)
    finally:
        for h in handles:
            h.remove()
    return log


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bench(name: str, model: nn.Module, x: torch.Tensor, repeats: int, device: str) -> dict:
    fns: dict[str, Callable[[], object]] = {
        "plain": lambda: plain(model, x),
        "doctor": lambda: initlab.doctor(model, x),
        "item logger": lambda: item_logger(model, x),
    }
    for fn in fns.values():  # warm-up
        fn()
        sync(device)
    times: dict[str, list[float]] = {k: [] for k in fns}
    order = list(fns)
    for r in range(repeats):
        for k in order[r % 3 :] + order[: r % 3]:
            sync(device)
            t0 = time.perf_counter()
            fns[k]()
            sync(device)
            times[k].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    dx = initlab.doctor(model, x)
    return {
        "model": name,
        "layers": len(dx.layers),
        "plain_ms": 1e3 * med["plain"],
        "doctor_ms": 1e3 * med["doctor"],
        "logger_ms": 1e3 * med["item logger"],
        "doctor_ratio": med["doctor"] / med["plain"],
        "logger_ratio": med["item logger"] / med["plain"],
        "verdict": dx.verdict,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny models, 3 repeats")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dev = args.device
    if args.quick:
        cnn_cfg, cnn_x = (1, 8), torch.randn(8, 3, 16, 16)
        tf_cfg, tf_x = (2, 64, 4, 500, 32), torch.randint(0, 500, (4, 32))
        repeats = 3
    else:
        cnn_cfg, cnn_x = (3, 16), torch.randn(32, 3, 32, 32)  # ResNet-20 (He et al. 2016)
        tf_cfg, tf_x = (4, 256, 8, 5000, 128), torch.randint(0, 5000, (16, 128))
        repeats = args.repeats
    models = [
        (
            f"ResNet-{6 * cnn_cfg[0] + 2} ({cnn_cfg[1]}-{4 * cnn_cfg[1]} ch, batch "
            f"{tuple(cnn_x.shape)})",
            zoo.resnet(*cnn_cfg),
            cnn_x,
        ),
        (
            f"nanoGPT (d {tf_cfg[1]}, {tf_cfg[0]} blocks, tokens {tuple(tf_x.shape)})",
            zoo.nano_gpt(*tf_cfg),
            tf_x,
        ),
    ]
    print(
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"device {dev}, threads {torch.get_num_threads()}, repeats {repeats} (medians)"
    )
    print(
        f"{'model':58s} {'layers':>6s} {'plain ms':>9s} {'doctor ms':>9s} {'doctor/plain':>12s} "
        f"{'logger ms':>9s} {'logger/plain':>12s}"
    )
    for name, model, x in models:
        r = bench(name, model.to(dev), x.to(dev), repeats, dev)
        print(
            f"{name:58s} {r['layers']:6d} {r['plain_ms']:9.1f} {r['doctor_ms']:9.1f} "
            f"{r['doctor_ratio']:11.2f}× {r['logger_ms']:9.1f} {r['logger_ratio']:11.2f}×"
        )
    print("target: doctor/plain ≤ 1.5×")


if __name__ == "__main__":
    main()
