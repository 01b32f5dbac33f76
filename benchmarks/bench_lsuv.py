"""LSUV: initlab.lsuv (one forward, O(L) layer evaluations) vs the ``lsuv`` PyPI package
(``LSUVinit``: a full forward per layer and per rescaling, O(L²) layer evaluations), on the same
deep MLP and plain CNN at depth 20 and 50, from the same starting weights.

    pip install lsuv        # the baseline (read: lsuv/lsuvinit.py, version 0.3.0)
    python benchmarks/bench_lsuv.py [--depths 20 50]

Counts: model forwards, and layer evaluations (every call of a Linear/Conv, counted by hooks;
initlab's own re-evaluations of a layer call ``module.forward`` directly, so they are added from
its report). If the package cannot be imported, a faithful reimplementation of its loop is used
and the output says so.
"""

from __future__ import annotations

import argparse
import copy
import time
import warnings

import torch
from torch import nn

import initlab


def mlp(depth: int, width: int = 256) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(width, 10))


def cnn(depth: int, ch: int = 32) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(3, ch, 3, padding=1), nn.ReLU()]
    for _ in range(depth - 1):
        layers += [nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(ch, 10))


def _package_lsuv():  # type: ignore[no-untyped-def]
    try:
        from lsuv import lsuv_with_singlebatch

        return lsuv_with_singlebatch, "lsuv package (PyPI)"
    except ImportError:
        return _reimplemented, "reimplementation of the lsuv package's loop (package missing)"


def _reimplemented(model: nn.Module, data: torch.Tensor, needed_std: float = 1.0,
                   std_tol: float = 0.1, max_attempts: int = 10, do_orthonorm: bool = True,
                   verbose: bool = False) -> nn.Module:
    """lsuv/lsuvinit.py's algorithm: for each layer, a full forward to read its output, then a
    full forward after each rescaling."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear | nn.modules.conv._ConvNd)]
    model.eval()
    with torch.no_grad():
        if do_orthonorm:
            for m in layers:
                nn.init.orthogonal_(m.weight)
                if m.bias is not None:
                    m.bias.zero_()
        for m in layers:
            out: dict[str, torch.Tensor] = {}

            def keep(mod: nn.Module, a: object, o: torch.Tensor, out=out) -> None:
                out["y"] = o

            h = m.register_forward_hook(keep)
            model(data)
            attempts = 0
            while abs(float(out["y"].std()) - needed_std) > std_tol:
                m.weight.mul_(needed_std / (float(out["y"].std()) + 1e-8))
                model(data)
                attempts += 1
                if attempts > max_attempts:
                    break
            h.remove()
    return model


class Counter:
    def __init__(self, model: nn.Module) -> None:
        self.forwards = 0
        self.layer_evals = 0
        self.handles = [model.register_forward_hook(self._fwd)]
        for m in model.modules():
            if isinstance(m, nn.Linear | nn.modules.conv._ConvNd):
                self.handles.append(m.register_forward_hook(self._layer))

    def _fwd(self, *a: object) -> None:
        self.forwards += 1

    def _layer(self, *a: object) -> None:
        self.layer_evals += 1

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depths", type=int, nargs="+", default=[20, 50])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--models", nargs="+", default=["mlp", "cnn"], choices=["mlp", "cnn"])
    ap.add_argument("--loop-only", action="store_true",
                    help="orthonormalize the shared start once, run both without their pre-init "
                    "(times the LSUV loop alone; the QR per layer is the same work in both)")
    args = ap.parse_args()
    baseline, label = _package_lsuv()
    print(f"baseline: {label}; {torch.get_num_threads()} threads")
    print(f"{'model':10s} {'L':>4s} | {'forwards':>17s} | {'layer evals':>17s} | "
          f"{'wall s':>15s} | speedup")
    if args.loop_only:
        print("loop only: both start from the same orthonormal weights, no pre-init")
    for kind in args.models:
        for depth in args.depths:
            torch.manual_seed(0)
            base = mlp(depth) if kind == "mlp" else cnn(depth)
            x = (torch.randn(args.batch, 256) if kind == "mlp"
                 else torch.randn(args.batch, 3, 16, 16))
            if args.loop_only:
                with torch.no_grad():
                    for mod in base.modules():
                        if isinstance(mod, nn.Linear | nn.modules.conv._ConvNd):
                            nn.init.orthogonal_(mod.weight)
                            mod.bias.zero_()
            a, b = copy.deepcopy(base), copy.deepcopy(base)
            ca = Counter(a)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                baseline(a, x, verbose=False, do_orthonorm=not args.loop_only)
            ta = time.perf_counter() - t0
            ca.remove()
            cb = Counter(b)
            t0 = time.perf_counter()
            rep = initlab.lsuv(b, x, orthonormal=not args.loop_only)
            tb = time.perf_counter() - t0
            cb.remove()
            evals_b = cb.layer_evals + rep.layer_calls
            print(f"{kind:10s} {depth + 1:4d} | {ca.forwards:6d} vs {cb.forwards:6d} | "
                  f"{ca.layer_evals:6d} vs {evals_b:6d} | {ta:6.2f} vs {tb:6.3f} | "
                  f"{ta / tb:6.1f}×  (initlab converged: {rep.converged})")


if __name__ == "__main__":
    main()
