"""Shared pieces of the claim experiments: argument checks, seeds, fits with standard errors."""

from __future__ import annotations

import functools
import math
import statistics
import time
from collections.abc import Sequence
from typing import Any

import torch

from initlab.errors import InitError
from initlab.lab.data import Split, load_digits_split


def check_int(name: str, value: Any, lo: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise InitError(f"{name} must be an int ≥ {lo}, got {value!r}")
    return value


def check_positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0 \
            or not math.isfinite(value):
        raise InitError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_values(name: str, values: Any, *, positive: bool = True, min_len: int = 1) -> tuple:
    try:
        vals = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise InitError(f"{name} must be a sequence of numbers, got {values!r}") from None
    if len(vals) < min_len:
        raise InitError(f"{name} needs at least {min_len} values, got {values!r}")
    if positive and any(not (v > 0 and math.isfinite(v)) for v in vals):
        raise InitError(f"{name} must all be finite and > 0, got {values!r}")
    return vals


def seed_list(seeds: int | Sequence[int] | None, quick: bool, quick_n: int = 3,
              full_n: int = 8) -> list[int]:
    """``seeds`` as a list: an int n means seeds 0…n−1; None the quick/full default."""
    if seeds is None:
        return list(range(quick_n if quick else full_n))
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        check_int("seeds", seeds, 1)
        return list(range(seeds))
    out = list(seeds)
    if not out or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in out):
        raise InitError(f"seeds must be an int ≥ 1 or a list of non-negative ints, got {seeds!r}")
    return out


def fit_line(x: Sequence[float], y: Sequence[float]) -> tuple[float, float, float]:
    """Least-squares y = a + b·x: (slope b, its standard error, intercept a).

    The standard error is σ̂/√Σ(x−x̄)² with σ̂² the residual variance on n − 2 degrees of
    freedom (0 when n = 2 or the fit is exact).
    """
    n = len(x)
    if n < 2:
        raise InitError("fit_line: need at least 2 points")
    mx, my = statistics.fmean(x), statistics.fmean(y)
    sxx = math.fsum((xi - mx) ** 2 for xi in x)
    if sxx == 0:
        raise InitError("fit_line: all x equal; vary the swept value")
    b = math.fsum((xi - mx) * (yi - my) for xi, yi in zip(x, y, strict=True)) / sxx
    a = my - b * mx
    if n > 2:
        rss = math.fsum((yi - a - b * xi) ** 2 for xi, yi in zip(x, y, strict=True))
        se = math.sqrt(rss / (n - 2) / sxx)
    else:
        se = 0.0
    return b, se, a


@functools.lru_cache(maxsize=1)
def digits() -> Split:
    """The bundled digits split (seed 0), loaded once per process: claims never modify it."""
    return load_digits_split(seed=0)


def resolve_device(device: Any, *, float64: str = "") -> torch.device:
    """A claim's ``device=`` argument checked (:func:`initlab.devices.resolve_device`);
    ``float64``: the claim's name when it computes in float64, which MPS lacks.

    Examples:
        >>> resolve_device("cpu", float64="symmetry")
        device(type='cpu')
    """
    from initlab.devices import resolve_device as _resolve

    dev = _resolve(device)
    if float64 and dev.type == "mps":
        raise InitError(f"{float64}: this claim computes in float64, which the MPS device does "
                        "not support; use device='cpu' (or a CUDA device)")
    return dev


def fit(net: torch.nn.Module, data: Split, device: torch.device | None = None,
        **kwargs: Any) -> Any:
    """:func:`initlab.lab.train.train` on ``device``: ``net`` (built and initialized on the CPU)
    is moved there for the training and back to the CPU afterwards, so the measurements a claim
    makes around its training run on the CPU as before. ``device=None`` or the CPU: ``train``
    itself, unchanged."""
    from initlab.lab.train import train

    if device is None or device.type == "cpu":
        return train(net, data, **kwargs)
    rec = train(net, data, device=device, **kwargs)
    net.cpu()
    return rec


def to_device(device: torch.device | None, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``tensors`` moved to ``device`` (unchanged for None or the CPU)."""
    if device is None or device.type == "cpu":
        return tensors
    return tuple(t.to(device) for t in tensors)


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


class Timer:
    """``with Timer() as t: ...`` then ``t.elapsed`` (seconds)."""

    def __enter__(self) -> Timer:
        self.t0 = time.perf_counter()
        self.elapsed = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.perf_counter() - self.t0


def mean(xs: Sequence[float]) -> float:
    return math.fsum(xs) / len(xs)


def stderr(xs: Sequence[float]) -> float:
    """Standard error of the mean over seeds; NaN when a sample is not finite (a diverged or
    never-flipped run), so every comparison that uses it fails rather than passes."""
    if len(xs) < 2:
        return 0.0
    if not all(math.isfinite(x) for x in xs):
        return math.nan
    return statistics.stdev(xs) / math.sqrt(len(xs))


def differs(a: Sequence[float], b: Sequence[float]) -> float:
    """Welch-style z statistic of mean(a) − mean(b) (standard errors over seeds combined);
    NaN when a sample is not finite, so both "> 2" and "> −2" fail."""
    se = math.hypot(stderr(a), stderr(b))
    d = mean(a) - mean(b)
    if se == 0:
        return math.inf if d > 0 else (-math.inf if d < 0 else 0.0)
    return d / se
