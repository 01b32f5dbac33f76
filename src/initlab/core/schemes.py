"""Initialization schemes: in-place functions on tensors, torch-style.

Every function takes the tensor first and ``generator=`` last, fills the tensor in place without
recording autograd, and returns it. One general mechanism, :func:`variance_scaling_`, draws from a
normal, truncated normal or uniform distribution of variance ``scale / n`` where ``n`` is a fan
(JAX's ``variance_scaling``); Xavier/Glorot, He/Kaiming and LeCun are thin presets of it.

This module is a drop-in superset of ``torch.nn.init``: every public function there exists here
with the same name, signature, defaults and semantics (for the same generator state, the Xavier,
Kaiming, normal and uniform functions give bit-identical values). Deliberate differences are named
in each docstring: ``trunc_normal_`` uses the inverse CDF instead of rejection sampling (same
distribution, different draws), ``sparse_`` draws its mask from ``generator=`` (torch uses the
global RNG). ``orthogonal_`` draws torch's values by default and offers ``method="stewart"``, the
same distribution without the QR (about half the cost, different draws).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal

import torch

from initlab.core import gains as _gains
from initlab.core.activations import Activation
from initlab.core.fans import Fans, fans
from initlab.core.formulas import PRESETS, Mode, scheme_std, uniform_bound
from initlab.core.formulas import Preset as Preset  # re-exported: it lived here
from initlab.core.gains import TORCH_NONLINEARITIES, calculate_gain
from initlab.core.samplers import (
    ORTHOGONAL_METHODS,
    check_float,
    check_number,
    normal_fill,
    orthogonal_fill,
    orthogonal_matrix,
    skip,
    truncated_normal_fill,
    truncated_std,
    uniform_fill,
)
from initlab.core.scheme_names import SCHEME_NAMES
from initlab.errors import InitError

Distribution = Literal["normal", "truncated_normal", "uniform"]
_DISTRIBUTIONS = ("normal", "truncated_normal", "uniform")
Generator = torch.Generator | None


# ------------------------------------------------------------------------- plain fills -------
def zeros_(tensor: torch.Tensor) -> torch.Tensor:
    """Fill with 0 (any dtype). Biases; the last layer of a residual branch (zero-init).

    Examples:
        >>> zeros_(torch.empty(2, 3)).sum().item()
        0.0
    """
    if not isinstance(tensor, torch.Tensor):
        raise InitError(f"zeros_: expected a torch.Tensor, got {type(tensor).__name__}")
    with torch.no_grad():
        return tensor.zero_()


def ones_(tensor: torch.Tensor) -> torch.Tensor:
    """Fill with 1 (any dtype). Norm scales.

    Examples:
        >>> ones_(torch.empty(3)).tolist()
        [1.0, 1.0, 1.0]
    """
    return constant_(tensor, 1.0)


def constant_(tensor: torch.Tensor, val: float) -> torch.Tensor:
    """Fill with ``val`` (any dtype). Every unit then computes the same thing: symmetry is not
    broken, so only use it where that is the point (biases, norm scales, zero-init).

    Examples:
        >>> constant_(torch.empty(2), 0.3).tolist()
        [0.30000001192092896, 0.30000001192092896]
    """
    if not isinstance(tensor, torch.Tensor):
        raise InitError(f"constant_: expected a torch.Tensor, got {type(tensor).__name__}")
    with torch.no_grad():
        return tensor.fill_(val)


def uniform_(
    tensor: torch.Tensor, a: float = 0.0, b: float = 1.0, generator: Generator = None
) -> torch.Tensor:
    """U(a, b).

    Raises:
        InitError: ``a > b`` (bounds reversed), non-finite bounds, integer tensor.

    Examples:
        >>> w = uniform_(torch.empty(100), -0.1, 0.1, generator=torch.Generator().manual_seed(0))
        >>> bool(w.abs().max() <= 0.1)
        True
    """
    check_float(tensor, "uniform_")
    a = check_number(a, "a", "uniform_")
    b = check_number(b, "b", "uniform_")
    if a > b:
        raise InitError(f"uniform_: lower bound a={a} is above upper bound b={b}; swap them")
    if skip(tensor):
        return tensor
    return uniform_fill(tensor, a, b, generator)


def normal_(
    tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator = None
) -> torch.Tensor:
    """N(mean, std²).

    Raises:
        InitError: negative or non-finite ``std``, integer tensor.

    Examples:
        >>> w = normal_(torch.empty(3, 4), std=0.02, generator=torch.Generator().manual_seed(0))
        >>> w.shape
        torch.Size([3, 4])
    """
    check_float(tensor, "normal_")
    mean = check_number(mean, "mean", "normal_")
    std = check_number(std, "std", "normal_", positive=True)
    if skip(tensor):
        return tensor
    return normal_fill(tensor, mean, std, generator)


def small_random_(
    tensor: torch.Tensor, std: float = 0.01, generator: Generator = None
) -> torch.Tensor:
    """``0.01 * N(0, 1)``: the seeds' naive "small random numbers" scheme (CS231n's
    ``W = 0.01 * np.random.randn(D, H)``). It breaks symmetry, but in a deep net the signal
    shrinks by ~``std·√fan_in·gain`` per layer: see ``initlab demo``.

    Examples:
        >>> w = small_random_(torch.empty(256, 256), generator=torch.Generator().manual_seed(0))
        >>> round(w.std().item(), 2)
        0.01
    """
    return normal_(tensor, 0.0, std, generator)


def trunc_normal_(
    tensor: torch.Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Generator = None,
) -> torch.Tensor:
    """N(mean, std²) truncated to the *absolute* interval [a, b] (torch semantics: the resulting
    std is below ``std``; for σ-relative bounds and a corrected std use
    :func:`truncated_normal_`).

    Differs from torch: sampled by the route that suits the window (normal + redraw of the few
    values outside for windows holding ≥ 80 % of the mass, inverse CDF otherwise, Robert's
    sampler in the far tails; see :func:`initlab.core.samplers.truncated_normal_fill`), so the
    values differ from torch's for the same generator while the distribution is the same.

    Raises:
        InitError: ``a > b``, negative ``std``.

    Examples:
        >>> w = trunc_normal_(torch.empty(1000), std=0.02, a=-0.04, b=0.04)
        >>> bool(w.abs().max() <= 0.04)
        True
    """
    check_float(tensor, "trunc_normal_")
    check_real(tensor, "trunc_normal_")
    mean = check_number(mean, "mean", "trunc_normal_")
    std = check_number(std, "std", "trunc_normal_", positive=True)
    a = check_number(a, "a", "trunc_normal_") if not math.isinf(a) else a
    b = check_number(b, "b", "trunc_normal_") if not math.isinf(b) else b
    if a > b:
        raise InitError(f"trunc_normal_: lower bound a={a} is above upper bound b={b}; swap them")
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn(
            "mean is more than 2 std from [a, b] in trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )
    if skip(tensor):
        return tensor
    return truncated_normal_fill(tensor, mean, std, a, b, generator)


def truncated_normal_(
    tensor: torch.Tensor,
    std: float = 1.0,
    mean: float = 0.0,
    lower: float = -2.0,
    upper: float = 2.0,
    *,
    correct_std: bool = True,
    generator: Generator = None,
) -> torch.Tensor:
    """Truncated normal with bounds in units of σ (JAX/Keras semantics).

    Values lie in [mean + lower·σ', mean + upper·σ']. With ``correct_std=True`` (default, as in
    JAX's and Keras's ``variance_scaling``) σ' = std / s where s is the std of N(0,1) truncated
    to [lower, upper] (0.87962566 for ±2), so the sample std equals ``std``.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> w = truncated_normal_(torch.empty(200_000), std=0.5, generator=g)
        >>> abs(w.std().item() - 0.5) < 0.005
        True
    """
    check_float(tensor, "truncated_normal_")
    check_real(tensor, "truncated_normal_")
    std = check_number(std, "std", "truncated_normal_", positive=True)
    mean = check_number(mean, "mean", "truncated_normal_")
    if not lower < upper:
        raise InitError(
            f"truncated_normal_: lower={lower} must be below upper={upper} (bounds in units "
            "of std); swap them"
        )
    if skip(tensor):
        return tensor
    sigma = std / truncated_std(lower, upper) if correct_std else std
    return truncated_normal_fill(
        tensor, mean, sigma, mean + lower * sigma, mean + upper * sigma, generator
    )


def check_real(tensor: torch.Tensor, fn: str) -> None:
    """Raise a clear error for a complex tensor where only real values make sense (the truncated
    normal: torch has no complex inverse error function, and "truncated to [a, b]" needs an
    order)."""
    if tensor.is_complex():
        raise InitError(
            f"{fn}: tensor has complex dtype {tensor.dtype}; a truncated normal needs real values. "
            "Initialize the real and imaginary parts (torch.view_as_real(t)) or use normal_"
        )


# -------------------------------------------------------------------- variance scaling -------
def _resolve_fans(
    tensor: torch.Tensor, fn: str, given: Fans | tuple[float, float] | None, **layout: Any
) -> Fans:
    if given is not None:
        if isinstance(given, Fans):
            return given
        try:
            fi, fo = given
        except (TypeError, ValueError) as e:
            raise InitError(f"{fn}: fans must be a Fans or a (fan_in, fan_out) pair") from e
        return Fans(fi, fo)
    try:
        return fans(tensor, **layout)
    except InitError as e:
        raise InitError(f"{fn}: {e}") from None


def _draw(
    tensor: torch.Tensor, std: float, distribution: str, generator: Generator, fn: str
) -> torch.Tensor:
    if distribution == "normal":
        return normal_fill(tensor, 0.0, std, generator)
    if distribution == "uniform":
        bound = uniform_bound(std)
        return uniform_fill(tensor, -bound, bound, generator)
    if distribution == "truncated_normal":  # _scaled has checked the tensor is real
        sigma = std / truncated_std(-2.0, 2.0)
        return truncated_normal_fill(tensor, 0.0, sigma, -2.0 * sigma, 2.0 * sigma, generator)
    raise InitError(
        f"{fn}: distribution must be one of {', '.join(_DISTRIBUTIONS)}, got {distribution!r}"
    )


def _scaled(
    tensor: torch.Tensor,
    fn: str,
    g: float,
    mode: str,
    distribution: str,
    generator: Generator,
    fans_: Fans | tuple[float, float] | None = None,
    **layout: Any,
) -> torch.Tensor:
    check_float(tensor, fn)
    g = check_number(g, "gain", fn, positive=True)  # a negative std/bound is meaningless
    if tensor.numel() == 0 and tensor.dim() >= 2:  # nothing to write (torch: "a no-op"); fans
        return tensor  # may be 0 here. A 1-D tensor still has no fans: the error below, as torch
    f = _resolve_fans(tensor, fn, fans_, **layout)
    std = scheme_std(g, mode, f, fn)
    if distribution not in _DISTRIBUTIONS:
        raise InitError(
            f"{fn}: distribution must be one of {', '.join(_DISTRIBUTIONS)}, got {distribution!r}"
        )
    if distribution == "truncated_normal":
        check_real(tensor, fn)
    if skip(tensor):
        return tensor
    return _draw(tensor, std, distribution, generator, fn)


def variance_scaling_(
    tensor: torch.Tensor,
    scale: float = 1.0,
    mode: Mode = "fan_in",
    distribution: Distribution = "truncated_normal",
    *,
    fans: Fans | tuple[float, float] | None = None,
    layout: str = "auto",
    groups: int = 1,
    stride: int | Sequence[int] | None = None,
    in_axes: int | Sequence[int] | None = None,
    out_axes: int | Sequence[int] | None = None,
    blocks: int = 1,
    generator: Generator = None,
) -> torch.Tensor:
    """The one general scheme: values of variance ``scale / n``, n chosen by ``mode``.

    n = fan_in, fan_out, (fan_in + fan_out)/2 or √(fan_in·fan_out). ``normal``: std = √(scale/n);
    ``uniform``: U(−√(3·scale/n), √(3·scale/n)); ``truncated_normal``: truncated at ±2σ with σ
    corrected so the std is √(scale/n) (JAX ``jax.nn.initializers.variance_scaling``).
    Xavier = (1, fan_avg), He = (2, fan_in), LeCun = (1, fan_in); ``scale = gain²``.

    Args:
        tensor: the weight.
        scale: variance multiplier (≥ 0).
        mode: which fan divides the variance.
        distribution: ``"normal"``, ``"truncated_normal"`` or ``"uniform"``.
        fans: fans to use instead of computing them from the shape.
        layout, groups, stride, in_axes, out_axes, blocks: how to compute fans (see
            :func:`initlab.fans`).
        generator: the torch generator to draw from.

    Raises:
        InitError: negative scale, unknown mode/distribution, a tensor with no fans.

    Examples:
        >>> w = torch.empty(512, 1024)
        >>> g = torch.Generator().manual_seed(0)
        >>> _ = variance_scaling_(w, 2.0, "fan_in", "normal", generator=g)
        >>> round(w.var().item() * 1024, 1)  # He: Var = 2 / fan_in
        2.0
    """
    scale = check_number(scale, "scale", "variance_scaling_", positive=True)
    return _scaled(
        tensor,
        "variance_scaling_",
        math.sqrt(scale),
        mode,
        distribution,
        generator,
        fans,
        layout=layout,
        groups=groups,
        stride=stride,
        in_axes=in_axes,
        out_axes=out_axes,
        blocks=blocks,
    )


def _gain_of(
    fn: str,
    nonlinearity: str | Activation | Callable[..., Any],
    param: float | None,
    gain_override: float | None,
) -> float:
    if gain_override is not None:
        return check_number(gain_override, "gain", fn)
    if isinstance(nonlinearity, str) and nonlinearity in TORCH_NONLINEARITIES:
        return float(calculate_gain(nonlinearity, param))
    return _variance_gain(fn, nonlinearity, param, None)


# Default slopes of the built-in leaky-ReLU family (built-in names cannot be re-registered).
_LEAKY_DEFAULT_SLOPE = {"relu": 0.0, "leaky_relu": 0.01, "prelu": 0.25}


def _closed_form_variance_gain(
    activation: str | Activation | Callable[..., Any], negative_slope: float | None
) -> float | None:
    """1/√E[φ(z)²] in closed form for the names every He/LeCun preset call uses, else None.

    E[φ(z)²] = (1 + a²)/2 for leaky ReLU of slope a (He et al. 2015, eq. 13 with 2/(1 + a²)),
    1 for linear. Same value as :func:`initlab.gain` (which integrates numerically, ~1 ms of
    Python per call), so the presets cost what torch's do.
    """
    if not isinstance(activation, str):
        return None
    if activation == "linear":
        return 1.0
    if activation not in _LEAKY_DEFAULT_SLOPE:
        return None
    slope = _LEAKY_DEFAULT_SLOPE[activation]
    if negative_slope is not None and activation != "relu":
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
            return None  # let gain() report the bad parameter
        slope = float(negative_slope)
    if not math.isfinite(slope):
        return None
    return math.sqrt(2.0 / (1.0 + slope * slope))


def _variance_gain(
    fn: str,
    activation: str | Activation | Callable[..., Any],
    negative_slope: float | None,
    gain_override: float | None,
) -> float:
    if gain_override is not None:
        return check_number(gain_override, "gain", fn)
    closed = _closed_form_variance_gain(activation, negative_slope)
    if closed is not None:
        return closed
    params = {}
    if negative_slope is not None and isinstance(activation, str):
        if activation in ("leaky_relu", "prelu"):
            params = {"negative_slope" if activation == "leaky_relu" else "init": negative_slope}
    try:
        return _gains.gain(activation, "variance", **params)
    except InitError as e:
        raise InitError(f"{fn}: {e}") from None


def xavier_uniform_(
    tensor: torch.Tensor, gain: float = 1.0, generator: Generator = None, *, fans: Any = None
) -> torch.Tensor:
    """Glorot & Bengio 2010, eq. 16: U(−a, a), a = gain·√(6/(fan_in + fan_out)).

    Fans from the torch layout ``(out, in, *kernel)``; pass ``fans=initlab.fans_of(module)`` for
    transposed/grouped convs.

    Examples:
        >>> w = xavier_uniform_(torch.empty(512, 1024))
        >>> bool(w.abs().max() <= (6 / 1536) ** 0.5)  # ±0.0625
        True
    """
    mode = PRESETS["xavier"].mode
    return _scaled(tensor, "xavier_uniform_", gain, mode, "uniform", generator, fans)


def xavier_normal_(
    tensor: torch.Tensor, gain: float = 1.0, generator: Generator = None, *, fans: Any = None
) -> torch.Tensor:
    """Glorot & Bengio 2010: N(0, std²), std = gain·√(2/(fan_in + fan_out)).

    Examples:
        >>> w = xavier_normal_(torch.empty(512, 1024), generator=torch.Generator().manual_seed(0))
        >>> round(w.var().item() / (2 / 1536), 1)
        1.0
    """
    mode = PRESETS["xavier"].mode
    return _scaled(tensor, "xavier_normal_", gain, mode, "normal", generator, fans)


def _kaiming(
    tensor: torch.Tensor,
    fn: str,
    a: float,
    mode: str,
    nonlinearity: str,
    distribution: str,
    generator: Generator,
    gain: float | None,
    fans: Any,
) -> torch.Tensor:
    """torch's Kaiming: gain from ``calculate_gain`` (or the variance gain of any other
    activation), fan_in or fan_out only, a warning and no-op on zero-element tensors."""
    g = _gain_of(fn, nonlinearity, a, gain)
    if mode not in ("fan_in", "fan_out"):
        raise InitError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    if isinstance(tensor, torch.Tensor) and 0 in tensor.shape:  # as torch.nn.init (and its tests)
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return tensor
    return _scaled(tensor, fn, g, mode, distribution, generator, fans)


def kaiming_uniform_(
    tensor: torch.Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator = None,
    *,
    gain: float | None = None,
    fans: Any = None,
) -> torch.Tensor:
    """He et al. 2015, eq. 10: U(−b, b), b = gain·√(3/fan_mode).

    ``gain`` comes from ``calculate_gain(nonlinearity, a)`` for torch's names (torch semantics,
    e.g. tanh 5/3); any other activation name or callable (``"gelu"``, ``"silu"``...) gets its
    variance gain 1/√E[φ(z)²]. ``gain=`` overrides both.

    Examples:
        >>> w = kaiming_uniform_(torch.empty(512, 1024), nonlinearity="relu")
        >>> bool(w.abs().max() <= (6 / 1024) ** 0.5)  # ±0.0765
        True
    """
    return _kaiming(tensor, "kaiming_uniform_", a, mode, nonlinearity, "uniform", generator,
                    gain, fans)  # fmt: skip


def kaiming_normal_(
    tensor: torch.Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator = None,
    *,
    gain: float | None = None,
    fans: Any = None,
) -> torch.Tensor:
    """He et al. 2015, eq. 10: N(0, std²), std = gain/√fan_mode (ReLU: √(2/fan_in)).

    Examples:
        >>> w = kaiming_normal_(torch.empty(512, 1024), nonlinearity="relu",
        ...                     generator=torch.Generator().manual_seed(0))
        >>> round(w.var().item() * 1024, 1)
        2.0
    """
    return _kaiming(tensor, "kaiming_normal_", a, mode, nonlinearity, "normal", generator,
                    gain, fans)  # fmt: skip


def he_normal_(
    tensor: torch.Tensor,
    activation: str | Activation | Callable[..., Any] = "relu",
    mode: Mode = "fan_in",
    *,
    negative_slope: float | None = None,
    gain: float | None = None,
    distribution: Distribution = "normal",
    fans: Any = None,
    generator: Generator = None,
) -> torch.Tensor:
    """He init with the *derived* variance gain of any activation: std = g/√fan, g =
    1/√E[φ(z)²] (ReLU √2, leaky ReLU √(2/(1+a²)), GELU 1.5335, SiLU 1.6765...).

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> w = he_normal_(torch.empty(256, 512), "gelu", generator=g)
        >>> round(w.std().item() * 512 ** 0.5, 1)  # 1.5335 ± 0.003 (SE of a sample std)
        1.5
    """
    g = _variance_gain("he_normal_", activation, negative_slope, gain)
    return _scaled(tensor, "he_normal_", g, mode, distribution, generator, fans)


def he_uniform_(
    tensor: torch.Tensor,
    activation: str | Activation | Callable[..., Any] = "relu",
    mode: Mode = "fan_in",
    *,
    negative_slope: float | None = None,
    gain: float | None = None,
    fans: Any = None,
    generator: Generator = None,
) -> torch.Tensor:
    """He init, uniform: U(−b, b), b = g·√(3/fan), g the variance gain of ``activation``.

    Examples:
        >>> w = he_uniform_(torch.empty(512, 1024))
        >>> bool(w.abs().max() <= (6 / 1024) ** 0.5)
        True
    """
    return he_normal_(
        tensor,
        activation,
        mode,
        negative_slope=negative_slope,
        gain=gain,
        distribution="uniform",
        fans=fans,
        generator=generator,
    )


def lecun_normal_(
    tensor: torch.Tensor,
    *,
    distribution: Distribution = "normal",
    fans: Any = None,
    generator: Generator = None,
) -> torch.Tensor:
    """LeCun et al. 1998 ("Efficient BackProp"): std = 1/√fan_in. With SELU this is the
    initialization self-normalizing networks need (Klambauer et al. 2017, sec. 3).

    Examples:
        >>> w = lecun_normal_(torch.empty(256, 400), generator=torch.Generator().manual_seed(0))
        >>> round(w.var().item() * 400, 1)
        1.0
    """
    mode = PRESETS["lecun"].mode
    return _scaled(tensor, "lecun_normal_", 1.0, mode, distribution, generator, fans)


def lecun_uniform_(
    tensor: torch.Tensor, *, fans: Any = None, generator: Generator = None
) -> torch.Tensor:
    """LeCun uniform: U(−√(3/fan_in), √(3/fan_in)).

    Examples:
        >>> w = lecun_uniform_(torch.empty(10, 300))
        >>> bool(w.abs().max() <= 0.1)
        True
    """
    mode = PRESETS["lecun"].mode
    return _scaled(tensor, "lecun_uniform_", 1.0, mode, "uniform", generator, fans)


def glorot_normal_(
    tensor: torch.Tensor,
    gain: float = 1.0,
    generator: Generator = None,
    *,
    distribution: Distribution = "normal",
    fans: Any = None,
) -> torch.Tensor:
    """Glorot & Bengio 2010 under the JAX/Keras name: std = gain·√(2/(fan_in + fan_out)).

    ``distribution="normal"`` (default) is :func:`xavier_normal_`, value for value. JAX's and
    Keras's ``glorot_normal`` draw ``"truncated_normal"`` (±2σ, σ corrected so the std is the
    same); pass that to get their distribution. The std is the same either way: the choice
    only trims the tails. ``he_normal_`` and ``lecun_normal_`` take the same option.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> w = glorot_normal_(torch.empty(256, 256), distribution="truncated_normal", generator=g)
        >>> bool(w.abs().max() <= 2 * (2 / 512) ** 0.5 / 0.8796)
        True
    """
    mode = PRESETS["xavier"].mode
    return _scaled(tensor, "glorot_normal_", gain, mode, distribution, generator, fans)


def glorot_uniform_(
    tensor: torch.Tensor, gain: float = 1.0, generator: Generator = None, *, fans: Any = None
) -> torch.Tensor:
    """Alias of :func:`xavier_uniform_` (Keras/JAX name): ``glorot_normal_(distribution=
    "uniform")``.

    Examples:
        >>> glorot_uniform_(torch.empty(4, 4)).shape
        torch.Size([4, 4])
    """
    return glorot_normal_(tensor, gain, generator, distribution="uniform", fans=fans)


def gate_constant_(tensor: torch.Tensor, values: Sequence[float]) -> torch.Tensor:
    """Cut ``tensor`` into ``len(values)`` equal blocks along dim 0; fill block k with
    ``values[k]``. The gate biases of a packed recurrent layer: ``gate_constant_(lstm.bias_ih_l0,
    (0, 1, 0, 0))`` sets the forget-gate bias to 1 (torch's gate order i, f, g, o; Gers et al.
    2000; Jozefowicz et al. 2015).

    Raises:
        InitError: no values, a non-finite value, or dim 0 not a multiple of ``len(values)``.

    Examples:
        >>> gate_constant_(torch.empty(8), (0, 1, 0, 0)).tolist()
        [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    """
    if not isinstance(tensor, torch.Tensor):
        raise InitError(f"gate_constant_: expected a torch.Tensor, got {type(tensor).__name__}")
    try:
        vals = [check_number(v, "values", "gate_constant_") for v in values]
    except TypeError:  # not iterable
        raise InitError(
            f"gate_constant_: values must be a sequence of numbers, one per gate, got {values!r}; "
            "e.g. (0, 1, 0, 0) for an LSTM's forget-gate bias"
        ) from None
    if not vals or tensor.dim() == 0 or tensor.shape[0] % len(vals):
        raise InitError(
            f"gate_constant_: needs a tensor whose dim 0 is a multiple of {len(vals)} (one block "
            f"per gate), got shape {tuple(tensor.shape)}"
        )
    if skip(tensor):
        return tensor
    with torch.no_grad():
        for k, chunk in enumerate(tensor.view(len(vals), -1) if tensor.is_contiguous()
                                  else tensor.chunk(len(vals))):  # fmt: skip
            chunk.fill_(vals[k])
    return tensor


# ------------------------------------------------------------------ structured schemes -------
def orthogonal_(
    tensor: torch.Tensor,
    gain: float = 1,
    generator: Generator = None,
    *,
    blocks: int = 1,
    method: Literal["qr", "stewart"] = "qr",
    out_dim: int = 0,
) -> torch.Tensor:
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2014), trailing dims flattened.

    Haar-distributed: Q of the QR of a Gaussian matrix with the signs of R's diagonal folded
    into its columns (Mezzadri 2007). Runs in float32 for bf16/fp16 tensors (torch's
    ``orthogonal_`` fails on bf16). ``blocks=k`` makes each of k equal row blocks orthogonal on
    its own (LSTM gates, packed q/k/v).

    Args:
        method: ``"qr"`` (default) draws exactly what ``torch.nn.init.orthogonal_`` draws (bit
            for bit for the same generator state, float32/float64, ``blocks=1``), slightly
            faster (sign fix and gain fused into one write). ``"stewart"``: the same Haar
            distribution sampled without the QR (Stewart 1980: draw the Householder reflectors
            directly, form only their product), about 2× faster on large matrices; different
            draws. See :func:`initlab.core.samplers.orthogonal_fill`.
        out_dim: the dimension that indexes outputs (and is cut into ``blocks``): 0 in torch's
            layout, 1 for a weight stored (in, out) such as Hugging Face GPT-2's ``Conv1D``,
            whose packed q/k/v are three column blocks.

    Examples:
        >>> w = orthogonal_(torch.empty(64, 64), generator=torch.Generator().manual_seed(0))
        >>> torch.allclose(w @ w.T, torch.eye(64), atol=1e-5)
        True
        >>> qkv = orthogonal_(torch.empty(8, 24), blocks=3, out_dim=1)  # (in, 3·out)
        >>> torch.allclose(qkv[:, 8:16].T @ qkv[:, 8:16], torch.eye(8), atol=1e-5)
        True
    """
    check_float(tensor, "orthogonal_")
    g = check_number(gain, "gain", "orthogonal_")
    if tensor.dim() < 2:
        raise InitError(
            f"orthogonal_: tensor of shape {tuple(tensor.shape)} has fewer than 2 dimensions; "
            "orthogonality needs a matrix (pass a 2-D or higher weight)"
        )
    if not isinstance(out_dim, int) or not -tensor.dim() <= out_dim < tensor.dim():
        raise InitError(
            f"orthogonal_: out_dim={out_dim!r} is not a dimension of a tensor of shape "
            f"{tuple(tensor.shape)} (0 for torch's (out, in) layout, 1 for (in, out))"
        )
    if not isinstance(blocks, int) or blocks < 1 or tensor.shape[out_dim] % blocks:
        raise InitError(
            f"orthogonal_: blocks={blocks!r} must be a positive int dividing dimension "
            f"{out_dim} ({tensor.shape[out_dim]})"
        )
    if out_dim % tensor.dim():
        orthogonal_(tensor.movedim(out_dim, 0), gain, generator, blocks=blocks, method=method)
        return tensor
    if method not in ORTHOGONAL_METHODS:
        raise InitError(
            f"orthogonal_: method must be one of {', '.join(ORTHOGONAL_METHODS)}, got {method!r} "
            "('qr' draws torch's values, 'stewart' is faster for large matrices)"
        )
    if skip(tensor):
        return tensor
    rows = tensor.shape[0] // blocks
    cols = tensor.numel() // tensor.shape[0]
    with torch.no_grad():
        # Write straight into the tensor where a (blocks, rows, cols) view of it exists (any
        # 2-D tensor, transposed views included; contiguous N-D); otherwise fill and copy once.
        if tensor.dim() == 2 and blocks == 1:
            orthogonal_fill(tensor.unsqueeze(0), g, generator, method)
        elif tensor.is_contiguous():
            orthogonal_fill(tensor.view(blocks, rows, cols), g, generator, method)
        else:
            work = torch.empty((blocks, rows, cols), dtype=tensor.dtype, device=tensor.device)
            orthogonal_fill(work, g, generator, method)
            tensor.copy_(work.reshape(tensor.shape))
    return tensor


def delta_orthogonal_(
    tensor: torch.Tensor, gain: float = 1.0, generator: Generator = None
) -> torch.Tensor:
    """Delta-orthogonal init for Conv1/2/3d (Xiao et al. 2018, Algorithm 1): every kernel tap is 0
    except the spatial centre, which holds an orthogonal (out × in) matrix times ``gain``. The
    conv is then an orthogonal map at init: dynamical isometry for very deep CNNs.

    The centre is tap (k−1)//2 per dim (JAX's choice): for odd k the middle, for even k the tap
    that ``padding="same"`` (which pads (k−1)//2 before) aligns with the output position, so the
    conv is the identity map on channels (times the orthogonal matrix). k//2 would shift the
    output by one pixel.

    Raises:
        InitError: not a conv weight (needs ≥ 3 dims), or in_channels > out_channels (an
            (out × in) matrix with more columns than rows cannot have orthonormal columns).

    Examples:
        >>> w = delta_orthogonal_(torch.empty(16, 8, 3, 3))
        >>> int((w[:, :, 1, 1] != 0).any()), int(w[:, :, 0, 0].abs().sum())
        (1, 0)
    """
    check_float(tensor, "delta_orthogonal_")
    if tensor.dim() < 3 or tensor.dim() > 5:
        raise InitError(
            f"delta_orthogonal_: expected a Conv1/2/3d weight (out, in, *kernel), got shape "
            f"{tuple(tensor.shape)}; for a Linear weight use orthogonal_"
        )
    out_c, in_c = tensor.shape[0], tensor.shape[1]
    if in_c > out_c:
        raise InitError(
            f"delta_orthogonal_: in_channels ({in_c}) > out_channels ({out_c}): the centre tap "
            "cannot be orthogonal on the input; use out_channels ≥ in_channels or orthogonal_"
        )
    g = check_number(gain, "gain", "delta_orthogonal_")
    if skip(tensor):
        return tensor
    with torch.no_grad():
        q = orthogonal_matrix(out_c, in_c, dtype=tensor.dtype, device=tensor.device,
                              generator=generator)
        tensor.zero_()
        centre = tuple((k - 1) // 2 for k in tensor.shape[2:])
        tensor[(slice(None), slice(None), *centre)] = (q * g).to(tensor.dtype)
    return tensor


def eye_(tensor: torch.Tensor) -> torch.Tensor:
    """The identity matrix (2-D only), as ``torch.nn.init.eye_``: identity in Linear layers.

    Examples:
        >>> eye_(torch.empty(2, 3)).tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    if not isinstance(tensor, torch.Tensor) or tensor.ndimension() != 2:
        raise InitError(
            f"eye_: only 2-D tensors are supported, got shape "
            f"{tuple(getattr(tensor, 'shape', ()))}; for conv weights use dirac_"
        )
    with torch.no_grad():
        torch.eye(*tensor.shape, out=tensor, requires_grad=tensor.requires_grad)
    return tensor


def dirac_(tensor: torch.Tensor, groups: int = 1) -> torch.Tensor:
    """The Dirac delta (identity conv) for 3/4/5-D conv weights, as ``torch.nn.init.dirac_``:
    preserves the identity of the inputs in conv layers, per group.

    Examples:
        >>> w = dirac_(torch.empty(4, 4, 3, 3))
        >>> w[:, :, 1, 1].tolist() == torch.eye(4).tolist()
        True
    """
    if not isinstance(tensor, torch.Tensor) or tensor.ndimension() not in (3, 4, 5):
        raise InitError(
            "dirac_: only tensors with 3, 4, or 5 dimensions (conv weights) are supported; "
            "for a Linear weight use eye_"
        )
    sizes = tensor.size()
    if not isinstance(groups, int) or groups < 1 or sizes[0] % groups != 0:
        raise InitError(f"dirac_: dim 0 ({sizes[0]}) must be divisible by groups={groups}")
    if skip(tensor):  # meta or 0-element (a 0-size kernel dim has no centre to index)
        return tensor
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    with torch.no_grad():
        tensor.zero_()
        centre = tuple(s // 2 for s in sizes[2:])
        for g in range(groups):
            for d in range(min_dim):
                tensor[(g * out_chans_per_grp + d, d, *centre)] = 1
    return tensor


def identity_(tensor: torch.Tensor, gain: float = 1.0, groups: int = 1) -> torch.Tensor:
    """Identity for any weight: ``eye_`` for 2-D, ``dirac_`` for conv weights, times ``gain``.

    Examples:
        >>> identity_(torch.empty(2, 2), gain=0.5).tolist()
        [[0.5, 0.0], [0.0, 0.5]]
    """
    g = check_number(gain, "gain", "identity_")
    if isinstance(tensor, torch.Tensor) and tensor.dim() == 2:
        eye_(tensor)
    else:
        dirac_(tensor, groups)
    if g != 1:
        with torch.no_grad():
            tensor.mul_(g)
    return tensor


def sparse_(
    tensor: torch.Tensor, sparsity: float, std: float = 0.01, generator: Generator = None
) -> torch.Tensor:
    """Sparse init (Martens 2010): N(0, std²) with a fraction ``sparsity`` of each column zero.

    Differs from torch: the zero mask is drawn from ``generator=`` too (torch draws it from the
    global RNG, so its result is not reproducible from the generator alone), and it is drawn in one
    vectorized step instead of a Python loop over columns. Call ``torch.nn.init.sparse_`` for
    torch's exact draws.

    Raises:
        InitError: not 2-D, ``sparsity`` outside [0, 1], negative ``std``.

    Examples:
        >>> w = sparse_(torch.empty(10, 4), 0.3, generator=torch.Generator().manual_seed(0))
        >>> (w == 0).sum(dim=0).tolist()
        [3, 3, 3, 3]
    """
    check_float(tensor, "sparse_")
    if tensor.ndimension() != 2:
        raise InitError(
            f"sparse_: only tensors with 2 dimensions are supported, got shape "
            f"{tuple(tensor.shape)}"
        )
    sparsity = check_number(sparsity, "sparsity", "sparse_")
    if not 0.0 <= sparsity <= 1.0:
        raise InitError(f"sparse_: sparsity is a fraction in [0, 1], got {sparsity}")
    std = check_number(std, "std", "sparse_", positive=True)
    if skip(tensor):
        return tensor
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    with torch.no_grad():
        tensor.normal_(0, std, generator=generator)
        if num_zeros:
            keys = torch.rand(rows, cols, generator=generator, device=tensor.device)
            zero_rows = keys.argsort(dim=0)[:num_zeros]
            tensor.scatter_(0, zero_rows, 0.0)
    return tensor


def depth_scaled_std(std: float = 0.02, num_layers: int = 12, factor: float = 2.0) -> float:
    """std / √(factor · num_layers): GPT-2's residual-projection scaling (Radford et al. 2019,
    sec. 2.3: "scale the weights of residual layers at initialization by 1/√N"; nanoGPT uses
    0.02/√(2·n_layer) since each block has two residual branches).

    Examples:
        >>> round(depth_scaled_std(0.02, 12), 8)
        0.00408248
    """
    std = check_number(std, "std", "depth_scaled_std", positive=True)
    if not isinstance(num_layers, int) or num_layers < 1:
        raise InitError(f"depth_scaled_std: num_layers must be a positive int, got {num_layers!r}")
    if factor <= 0:
        raise InitError(f"depth_scaled_std: factor must be > 0, got {factor}")
    return std / math.sqrt(factor * num_layers)


def gpt_normal_(
    tensor: torch.Tensor,
    std: float = 0.02,
    *,
    num_layers: int | None = None,
    residual: bool = False,
    generator: Generator = None,
) -> torch.Tensor:
    """GPT-2/nanoGPT init: N(0, 0.02²); residual projections (``c_proj``) get
    N(0, (0.02/√(2·num_layers))²).

    Examples:
        >>> w = gpt_normal_(torch.empty(768, 3072), num_layers=12, residual=True,
        ...                 generator=torch.Generator().manual_seed(0))
        >>> round(w.std().item(), 4)
        0.0041
    """
    if residual:
        if num_layers is None:
            raise InitError("gpt_normal_: residual=True needs num_layers= (the model's n_layer)")
        std = depth_scaled_std(std, num_layers)
    return normal_(tensor, 0.0, std, generator)


def fixup_scale(num_branches: int, layers_per_branch: int) -> float:
    """Fixup's rescaling of the non-final layers of each residual branch: L^(−1/(2m−2))
    (Zhang et al. 2019, sec. 3, rule 2), L residual branches of m layers each.

    Examples:
        >>> round(fixup_scale(54, 2), 6)  # ResNet-110
        0.136083
    """
    if not isinstance(num_branches, int) or num_branches < 1:
        raise InitError(f"fixup_scale: num_branches must be a positive int, got {num_branches!r}")
    if not isinstance(layers_per_branch, int) or layers_per_branch < 2:
        raise InitError(
            f"fixup_scale: layers_per_branch must be an int ≥ 2, got {layers_per_branch!r}; with "
            "one layer per branch Fixup zero-initializes it and scales nothing"
        )
    return num_branches ** (-1.0 / (2 * layers_per_branch - 2))


def t_fixup_scale(num_layers: int, part: Literal["encoder", "decoder"] = "encoder") -> float:
    """T-Fixup's weight scale for Transformers without warmup or LayerNorm (Huang et al. 2020,
    sec. 3.2): encoder 0.67·N^(−1/4), decoder (9N)^(−1/4).

    Examples:
        >>> round(t_fixup_scale(6), 6), round(t_fixup_scale(6, "decoder"), 6)
        (0.428092, 0.368894)
    """
    if not isinstance(num_layers, int) or num_layers < 1:
        raise InitError(f"t_fixup_scale: num_layers must be a positive int, got {num_layers!r}")
    if part == "encoder":
        return 0.67 * num_layers ** -0.25
    if part == "decoder":
        return (9 * num_layers) ** -0.25
    raise InitError(f"t_fixup_scale: part must be 'encoder' or 'decoder', got {part!r}")


# ------------------------------------------------- torch.nn.init's deprecated aliases --------
def _deprecated(new: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    old = new.__name__[:-1]

    def fn(*args: Any, **kwargs: Any) -> torch.Tensor:
        warnings.warn(
            f"`initlab.{old}` is deprecated in favor of `initlab.{new.__name__}` "
            "(as in torch.nn.init).",
            FutureWarning,
            stacklevel=2,
        )
        return new(*args, **kwargs)

    fn.__name__ = old
    fn.__doc__ = f"Deprecated alias of :func:`{new.__name__}` (kept because torch.nn.init has it)."
    return fn


# torch.nn.init's private ``_no_grad_*`` fills, which some libraries import from it (e.g.
# ``from torch.nn.init import _no_grad_trunc_normal_``): the drop-in keeps them, with torch's
# signatures. Every initlab fill already runs without autograd, so they are the public ones.
def _no_grad_uniform_(
    tensor: torch.Tensor, a: float, b: float, generator: Generator = None
) -> torch.Tensor:
    return uniform_(tensor, a, b, generator)


def _no_grad_normal_(
    tensor: torch.Tensor, mean: float, std: float, generator: Generator = None
) -> torch.Tensor:
    return normal_(tensor, mean, std, generator)


def _no_grad_trunc_normal_(
    tensor: torch.Tensor, mean: float, std: float, a: float, b: float, generator: Generator = None
) -> torch.Tensor:
    return trunc_normal_(tensor, mean, std, a, b, generator)


def _no_grad_fill_(tensor: torch.Tensor, val: float) -> torch.Tensor:
    return constant_(tensor, val)


def _no_grad_zero_(tensor: torch.Tensor) -> torch.Tensor:
    return zeros_(tensor)


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)


__all__ = list(SCHEME_NAMES)
