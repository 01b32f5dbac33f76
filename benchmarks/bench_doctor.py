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

Models: a ResNet-style CNN (BasicBlocks with BN and in-place ReLU) on 32×32 images and a small
pre-LN transformer (MultiheadAttention, LayerNorm, GELU MLP) on token ids.

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


class BasicBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + x)


def resnet(c: int, blocks: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, c, 3, padding=1, bias=False),
        nn.BatchNorm2d(c),
        nn.ReLU(inplace=True),
        *[BasicBlock(c) for _ in range(blocks)],
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(c, 10),
    )


class Block(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ln1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class Transformer(nn.Module):
    def __init__(self, vocab: int, d: int, heads: int, depth: int) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.blocks = nn.Sequential(*[Block(d, heads) for _ in range(depth)])
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.ln(self.blocks(self.emb(ids))))


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
        cnn_cfg, cnn_x = (16, 2), torch.randn(8, 3, 16, 16)
        tf_cfg, tf_x = (500, 64, 4, 2), torch.randint(0, 500, (4, 32))
        repeats = 3
    else:
        cnn_cfg, cnn_x = (64, 8), torch.randn(32, 3, 32, 32)
        tf_cfg, tf_x = (5000, 256, 8, 4), torch.randint(0, 5000, (16, 128))
        repeats = args.repeats
    models = [
        (f"ResNet-style CNN ({cnn_cfg[1]} blocks × {cnn_cfg[0]} ch, batch "
         f"{tuple(cnn_x.shape)})", resnet(*cnn_cfg), cnn_x),
        (f"transformer (d {tf_cfg[1]}, {tf_cfg[3]} blocks, tokens {tuple(tf_x.shape)})",
         Transformer(*tf_cfg), tf_x),
    ]
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"device {dev}, threads {torch.get_num_threads()}, repeats {repeats} (medians)")
    print(f"{'model':58s} {'layers':>6s} {'plain ms':>9s} {'doctor ms':>9s} {'doctor/plain':>12s} "
          f"{'logger ms':>9s} {'logger/plain':>12s}")
    for name, model, x in models:
        r = bench(name, model.to(dev), x.to(dev), repeats, dev)
        print(f"{name:58s} {r['layers']:6d} {r['plain_ms']:9.1f} {r['doctor_ms']:9.1f} "
              f"{r['doctor_ratio']:11.2f}× {r['logger_ms']:9.1f} {r['logger_ratio']:11.2f}×")
    print("target: doctor/plain ≤ 1.5×")


if __name__ == "__main__":
    main()
