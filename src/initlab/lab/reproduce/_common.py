"""What the reproductions share: settings presets, data, starts, seeded training, summaries.

Every reproduction has a frozen ``Settings`` dataclass with two presets (``QUICK``: a scaled-down
version that runs in seconds on two CPU cores; ``FULL``: closer to the paper) and accepts
keyword overrides of any field, which is how the tests run each experiment at a tiny size that
still computes its verdict from the run.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch
from torch import nn

from initlab.errors import InitError
from initlab.lab.data import Split

S = TypeVar("S")


def resolve_settings(name: str, quick: bool, presets: tuple[S, S], overrides: dict[str, Any]) -> S:
    """The quick or full preset with ``overrides`` applied.

    Raises:
        InitError: an override names no field of the settings (the message lists the fields).
    """
    base = presets[0] if quick else presets[1]
    fields = {f.name for f in dataclasses.fields(base)}  # type: ignore[arg-type]
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise InitError(
            f"reproduce {name}: unknown setting(s) {', '.join(unknown)}; "
            f"the settings are {', '.join(sorted(fields))}"
        )
    fixed = {k: _coerce(name, k, getattr(base, k), v) for k, v in overrides.items()}
    return dataclasses.replace(base, **fixed)  # type: ignore[type-var]


def _coerce(name: str, key: str, default: Any, v: Any) -> Any:
    """``v`` checked against the type of the preset's value: ints ≥ 1, finite floats > 0,
    strings, tuples (a single value becomes a 1-tuple)."""
    bad = f"reproduce {name}: {key} must be"
    if isinstance(default, tuple):
        items = tuple(v) if isinstance(v, list | tuple) else (v,)
        if not items:
            raise InitError(f"{bad} a non-empty list like {','.join(map(str, default))}")
        if default and all(isinstance(d, str) for d in default):
            if not all(isinstance(i, str) for i in items):
                raise InitError(f"{bad} names like {','.join(default)}, got {v!r}")
            return items
        # negative preset values are sentinels (schoenholz2017: -1 = "critical")
        sentinels = {d for d in default if isinstance(d, float) and d < 0}
        return tuple(i if sentinels and (i in sentinels or isinstance(i, str))
                     else _coerce(name, key, default[0] if default else 1.0, i) for i in items)
    if isinstance(default, bool):
        if not isinstance(v, bool):
            raise InitError(f"{bad} True or False, got {v!r}")
        return v
    if isinstance(default, int):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InitError(f"{bad} an int ≥ 1, got {v!r}")
        return v
    if isinstance(default, float):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or (
                v <= 0 and v != default):
            raise InitError(f"{bad} a finite number > 0, got {v!r}")
        return float(v)
    if isinstance(default, str):
        if not isinstance(v, str) or not v:
            raise InitError(f"{bad} a name like {default!r}, got {v!r}")
        return v
    return v


def settings_dict(settings: Any, quick: bool) -> dict[str, Any]:
    d = dataclasses.asdict(settings)
    d["quick"] = quick
    return d


class Timer:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0


# ------------------------------------------------------------------------------- data -------
def load_split(name: str, seed: int = 0, n_train: int | None = None,
               n_test: int | None = None) -> Split:
    """A data set of the lab's registry (:func:`initlab.lab.data.load_dataset`), standardized
    with the training split's statistics, flattened."""
    from initlab.lab.data import load_dataset

    return load_dataset(name, seed=seed, n_train=n_train, n_test=n_test)


# ----------------------------------------------------------------------------- models -------
def mlp(depth: int, width: int, in_features: int, out_features: int,
        activation: type[nn.Module] | nn.Module) -> nn.Module:
    """The zoo's deep MLP: ``depth`` hidden Linear + activation layers and a Linear head."""
    from initlab.lab.zoo import deep_mlp

    return deep_mlp(depth, width, in_features, out_features, activation)


def linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


# ----------------------------------------------------------------------------- starts -------
def apply_start(model: nn.Module, spec: str, seed: int = 0,
                example_input: torch.Tensor | None = None) -> str:
    """Initialize ``model`` with a start of the one registry (:mod:`initlab.lab.starts`:
    ``zeros``, ``normal``, ``xavier``, ``he``, ``fixup``, ``critical(sigma_b2=0.05)`` …);
    returns its legend label."""
    from initlab.lab.starts import apply_start as _apply

    return _apply(model, spec, example_input, seed=seed).label


def start_label(spec: str) -> str:
    from initlab.lab.starts import get_start

    return get_start(spec).label


def gaussian_fill_(model: nn.Module, sigma_w2: float, sigma_b2: float, seed: int = 0, *,
                   weights: str = "gaussian") -> nn.Module:
    """Mean-field init of every Linear: W ~ N(0, σ_w²/fan_in) (or σ_w·√(n/fan_in)·Haar
    orthogonal), b ~ N(0, σ_b²) (Poole et al. 2016; Schoenholz et al. 2017).

    Gaussian weights are the lab's ``meanfield(sigma_w2=…, sigma_b2=…)`` start (one registry of
    starts, each parameter seeded by its name); the orthogonal variant (Pennington et al. 2017)
    has no start, so it is drawn here."""
    from initlab.core import schemes
    from initlab.lab.starts import get_start

    if weights != "orthogonal":
        return get_start(f"meanfield(sigma_w2={float(sigma_w2)!r}, "
                         f"sigma_b2={float(sigma_b2)!r})").apply(model, seed=seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in linears(model):
            fan_in = m.weight.shape[1]
            schemes.orthogonal_(m.weight, gain=math.sqrt(sigma_w2), generator=g)
            if m.weight.shape[0] > fan_in:  # tall: columns orthonormal; rows of norm² in/out
                m.weight.mul_(math.sqrt(m.weight.shape[0] / fan_in))
            if m.bias is not None:
                if sigma_b2 > 0:
                    schemes.normal_(m.bias, 0.0, math.sqrt(sigma_b2), generator=g)
                else:
                    schemes.zeros_(m.bias)
    return model


# ---------------------------------------------------------------------------- training ------
def train_steps(model: nn.Module, data: Split, steps: int, lr: float, *, batch_size: int = 64,
                seed: int = 0, optimizer: str = "sgd", momentum: float = 0.9,
                device: torch.device | str | None = None) -> Any:
    """``initlab.lab.train.train`` for at least ``steps`` SGD steps (whole epochs), on
    ``device`` (None: where the model is)."""
    from initlab.lab.train import train

    per_epoch = math.ceil(data.x_train.shape[0] / batch_size)
    epochs = max(1, math.ceil(steps / per_epoch))
    return train(model, data, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                 optimizer=optimizer, momentum=momentum, device=device)


def resolve_device(device: Any) -> torch.device:
    """The reproductions' ``device=`` argument checked (:func:`initlab.devices.resolve_device`).

    Every reproduction builds and initializes its models on the CPU (the same weights on every
    device) and trains them on ``device``; the step-0 measurements stay on the CPU."""
    from initlab.devices import resolve_device as _resolve

    return _resolve(device)


def curve(values: Sequence[float], points: int = 100) -> dict[str, list[float]]:
    """``values`` (one per step) averaged in ≤ ``points`` consecutive windows: ``{"x": window
    centre steps, "y": window means}``. Non-finite values propagate, so a diverged run's curve
    ends in a non-finite point at the step where it diverged."""
    n = len(values)
    k = max(1, math.ceil(n / points))
    xs: list[float] = []
    ys: list[float] = []
    for i in range(0, n, k):
        w = values[i:i + k]
        xs.append(i + (len(w) - 1) / 2)
        ys.append(sum(w) / len(w))
    return {"x": xs, "y": ys}


def mean(xs: Sequence[float]) -> float:
    return math.fsum(xs) / len(xs) if xs else math.nan


def mean_curves(curves: Sequence[dict[str, list[float]]]) -> dict[str, list[float]]:
    """Pointwise mean over seeds of :func:`curve` results (up to the shortest one)."""
    if not curves:
        return {"x": [], "y": []}
    n = min(len(c["y"]) for c in curves)
    return {"x": list(curves[0]["x"][:n]), "y": [mean([c["y"][i] for c in curves])
                                                for i in range(n)]}


def seeds_of(n: int) -> list[int]:
    return list(range(n))


def fmt(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}" if math.isfinite(x) else str(x)


def run_seeds(fn: Callable[[int], S], seeds: int) -> list[S]:
    return [fn(s) for s in seeds_of(seeds)]


__all__ = [
    "Timer",
    "apply_start",
    "curve",
    "fmt",
    "gaussian_fill_",
    "linears",
    "load_split",
    "mean",
    "mean_curves",
    "mlp",
    "resolve_device",
    "resolve_settings",
    "run_seeds",
    "seeds_of",
    "settings_dict",
    "start_label",
    "train_steps",
]
