"""Declarative initialization schemes: what to write into one parameter, as data.

A :class:`Scheme` names a scheme and its arguments (``normal(std=0.02)``, ``he()``,
``orthogonal(gain=1.0)``); it is printable, serializable and compared by value. A plan row
resolves it against the parameter (shape, fans, the activation that follows) into numbers — gain,
std, bound — and into one call of an in-place initializer of :mod:`initlab.core`, which
:func:`initlab.apply_plan` makes. Users build schemes with the functions of
:mod:`initlab.schemes` (this module's public functions) and pass them as rules:

    rules=[("*.c_proj.weight", initlab.schemes.normal(std=0.002)), (nn.LayerNorm, "default")]

Examples:
    >>> from initlab.core.fans import Fans
    >>> r = resolve(he(), Target((64, 32), Fans(32, 64), "relu"))
    >>> round(r.std * 32 ** 0.5, 6), r.call[0]
    (1.414214, 'variance_scaling_')
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

from initlab.core.activations import get_activation
from initlab.core.fans import Fans
from initlab.core.gains import gain as _gain
from initlab.errors import InitError
from initlab.theory.critical import CriticalInit, critical_init

_ELEMENTWISE = frozenset(
    {"normal", "uniform", "truncated_normal", "xavier", "he", "lecun", "variance_scaling",
     "critical"}
)  # fmt: skip
KINDS = (
    "normal", "uniform", "truncated_normal", "xavier", "he", "lecun", "variance_scaling",
    "critical", "orthogonal", "delta_orthogonal", "zeros", "ones", "constant", "identity",
    "default", "keep", "module_default", "gate_constant",
)  # fmt: skip


@dataclass(frozen=True)
class Scheme:
    """One initialization scheme and its arguments (a value: printable, serializable).

    Attributes:
        kind: the scheme's name (see :data:`KINDS`).
        params: its arguments, as sorted (name, value) pairs.

    Examples:
        >>> str(normal(std=0.02))
        'normal(std=0.02)'
    """

    kind: str
    params: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.params).get(key, default)

    def __str__(self) -> str:
        args = ", ".join(f"{k}={_fmt(v)}" for k, v in self.params)
        return f"{self.kind}({args})"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scheme:
        return _make(d["kind"], **d.get("params", {}))


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return repr(v) if isinstance(v, str) else str(v)


def _make(kind: str, **params: Any) -> Scheme:
    if kind not in KINDS:
        raise InitError(f"scheme: unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    items = ((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items())
    return Scheme(kind, tuple(sorted((k, v) for k, v in items if v is not None)))


# ------------------------------------------------------------------ public constructors -----
def normal(std: float = 1.0, mean: float = 0.0) -> Scheme:
    """N(mean, std²) (``initlab.normal_``).

    Examples:
        >>> normal(0.02).get("std")
        0.02
    """
    _check_nonneg("normal", "std", std)
    return _make("normal", std=float(std), mean=float(mean) if mean else None)


def uniform(
    a: float | None = None, b: float | None = None, *, bound: float | None = None
) -> Scheme:
    """U(a, b), or U(−bound, bound) (``initlab.uniform_``).

    Examples:
        >>> str(uniform(bound=0.1))
        'uniform(a=-0.1, b=0.1)'
    """
    if bound is not None:
        _check_nonneg("uniform", "bound", bound)
        a, b = -float(bound), float(bound)
    if a is None or b is None:
        raise InitError("schemes.uniform: give a and b, or bound=")
    if a > b:
        raise InitError(f"schemes.uniform: a={a} is above b={b}; swap them")
    return _make("uniform", a=float(a), b=float(b))


def truncated_normal(std: float = 1.0, lower: float = -2.0, upper: float = 2.0) -> Scheme:
    """Normal truncated at [lower, upper] σ, std corrected to ``std`` (JAX semantics,
    ``initlab.truncated_normal_``).

    Examples:
        >>> truncated_normal(0.02).get("lower")
        -2.0
    """
    _check_nonneg("truncated_normal", "std", std)
    return _make("truncated_normal", std=float(std), lower=float(lower), upper=float(upper))


def xavier(gain: float = 1.0, distribution: str = "normal") -> Scheme:
    """Glorot & Bengio 2010: std = gain·√(2/(fan_in + fan_out)), fans from the layer's layout.

    Examples:
        >>> str(xavier(distribution="uniform"))
        "xavier(distribution='uniform', gain=1)"
    """
    _check_dist(distribution)
    return _make("xavier", gain=float(gain), distribution=distribution)


def he(
    activation: str | None = None,
    mode: str = "fan_in",
    distribution: str = "normal",
    *,
    factor: float = 1.0,
    negative_slope: float | None = None,
) -> Scheme:
    """He et al. 2015: std = factor·g/√fan, g = 1/√E[φ(z)²] of ``activation`` (default: the
    activation found after the layer; ReLU √2, GELU 1.5335...).

    Examples:
        >>> he("relu").get("activation")
        'relu'
    """
    _check_dist(distribution)
    if mode not in ("fan_in", "fan_out", "fan_avg"):
        raise InitError(f"schemes.he: mode must be fan_in, fan_out or fan_avg, got {mode!r}")
    return _make(
        "he",
        activation=activation,
        mode=mode,
        distribution=distribution,
        factor=float(factor) if factor != 1.0 else None,
        negative_slope=negative_slope,
    )


def lecun(distribution: str = "normal", *, factor: float = 1.0) -> Scheme:
    """LeCun et al. 1998: std = factor/√fan_in (with SELU: Klambauer et al. 2017).

    Examples:
        >>> str(lecun())
        "lecun(distribution='normal')"
    """
    _check_dist(distribution)
    return _make("lecun", distribution=distribution, factor=float(factor) if factor != 1 else None)


def variance_scaling(
    scale: float = 1.0, mode: str = "fan_in", distribution: str = "normal"
) -> Scheme:
    """Variance scale/n, n the fan named by ``mode`` (``initlab.variance_scaling_``).

    Examples:
        >>> variance_scaling(2.0).get("scale")
        2.0
    """
    _check_dist(distribution)
    _check_nonneg("variance_scaling", "scale", scale)
    return _make("variance_scaling", scale=float(scale), mode=mode, distribution=distribution)


def critical(sigma_b2: float | None = None, q_star: float | None = None) -> Scheme:
    """Edge of chaos (Poole et al. 2016; Schoenholz et al. 2017): the point (σ_w², σ_b²) on the
    critical line χ₁ = 1 of the layer's activation chosen by
    :func:`initlab.theory.critical_init`: at bias variance ``sigma_b2``, at fixed point ``q_star``
    (Xiao et al. 2018), or (neither) σ_b = 0 when that point is stable, else the smallest q* ≥ 1
    whose fixed point attracts (GELU q* ≈ 5.1, SiLU ≈ 25).
    A weight gets N(0, σ_w²/fan_in); a vector (a bias) N(0, σ_b²).

    Examples:
        >>> critical(sigma_b2=0.05).get("sigma_b2")
        0.05
        >>> str(critical())
        'critical()'
    """
    if sigma_b2 is not None and q_star is not None:
        raise InitError("schemes.critical: pass sigma_b2= or q_star=, not both")
    if sigma_b2 is not None:
        _check_nonneg("critical", "sigma_b2", sigma_b2)
    if q_star is not None:
        _check_nonneg("critical", "q_star", q_star)
    return _make(
        "critical",
        sigma_b2=float(sigma_b2) if sigma_b2 is not None else None,
        q_star=float(q_star) if q_star is not None else None,
    )


def gate_constant(*values: float) -> Scheme:
    """A vector cut into ``len(values)`` equal blocks, block k all ``values[k]`` — gate biases of
    a packed recurrent layer, e.g. ``gate_constant(0, 1, 0, 0)``: an LSTM's forget-gate bias 1
    (torch's gate order i, f, g, o; Gers et al. 2000; Jozefowicz et al. 2015).

    Examples:
        >>> str(gate_constant(0, 1, 0, 0))
        'gate_constant(values=(0.0, 1.0, 0.0, 0.0))'
    """
    if len(values) == 1 and isinstance(values[0], list | tuple):
        values = tuple(values[0])
    try:
        vals = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        vals = ()
    if not vals or not all(math.isfinite(v) for v in vals):
        raise InitError(
            f"schemes.gate_constant: expected one finite number per gate, got {values!r}; e.g. "
            "gate_constant(0, 1, 0, 0) for an LSTM's forget-gate bias"
        )
    return _make("gate_constant", values=vals)


def orthogonal(gain: float | None = None) -> Scheme:
    """Saxe et al. 2014: a (semi-)orthogonal matrix × gain (default: the variance gain of the
    activation after the layer); per gate/q-k-v block for packed weights. Needs the whole
    matrix: not generated in blocks.

    Examples:
        >>> str(orthogonal(1.0))
        'orthogonal(gain=1)'
    """
    return _make("orthogonal", gain=float(gain) if gain is not None else None)


def delta_orthogonal(gain: float | None = None) -> Scheme:
    """Xiao et al. 2018: conv kernel zero except an orthogonal centre tap × gain.

    Examples:
        >>> delta_orthogonal().kind
        'delta_orthogonal'
    """
    return _make("delta_orthogonal", gain=float(gain) if gain is not None else None)


def zeros() -> Scheme:
    """All zeros (biases; zero-init of a residual branch's last layer).

    Examples:
        >>> str(zeros())
        'zeros()'
    """
    return _make("zeros")


def ones() -> Scheme:
    """All ones (norm scales).

    Examples:
        >>> str(ones())
        'ones()'
    """
    return _make("ones")


def constant(value: float) -> Scheme:
    """A constant.

    Examples:
        >>> constant(0.25).get("value")
        0.25
    """
    return _make("constant", value=float(value))


def identity(gain: float = 1.0) -> Scheme:
    """Identity (``eye_`` for Linear, ``dirac_`` for conv) × gain.

    Examples:
        >>> identity().kind
        'identity'
    """
    return _make("identity", gain=float(gain))


def default() -> Scheme:
    """The module's own initialization (what its ``reset_parameters`` draws), seeded by name.

    Examples:
        >>> str(default())
        'default()'
    """
    return _make("default")


def keep() -> Scheme:
    """Leave the parameter as it is.

    Examples:
        >>> str(keep())
        'keep()'
    """
    return _make("keep")


_BY_NAME = {
    "normal": normal, "uniform": lambda: uniform(bound=1.0), "xavier": xavier, "he": he,
    "lecun": lecun, "orthogonal": orthogonal, "delta_orthogonal": delta_orthogonal,
    "zeros": zeros, "ones": ones, "default": default, "keep": keep, "critical": critical,
    "truncated_normal": truncated_normal, "identity": identity,
}  # fmt: skip


def parse(spec: Scheme | str) -> Scheme:
    """A scheme from a :class:`Scheme` or a name (``"default"``, ``"keep"``, ``"zeros"``,
    ``"xavier"``, ``"he"``, ``"orthogonal"``...).

    Examples:
        >>> parse("xavier") == xavier()
        True
    """
    if isinstance(spec, Scheme):
        return spec
    if isinstance(spec, str) and spec.strip().lower() in _BY_NAME:
        return _BY_NAME[spec.strip().lower()]()
    raise InitError(
        f"rule scheme {spec!r}: expected an initlab.schemes.* value (e.g. "
        f"initlab.schemes.normal(std=0.02)) or one of the names {', '.join(sorted(_BY_NAME))}"
    )


def _check_dist(d: str) -> None:
    if d not in ("normal", "uniform", "truncated_normal"):
        raise InitError(
            f"schemes: distribution must be 'normal', 'uniform' or 'truncated_normal', got {d!r}"
        )


def _check_nonneg(fn: str, name: str, v: float) -> None:
    try:
        ok = float(v) >= 0 and math.isfinite(float(v))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InitError(f"schemes.{fn}: {name} must be a finite number ≥ 0, got {v!r}")


# ------------------------------------------------------------------------- resolution ------
@dataclass(frozen=True)
class Target:
    """What a scheme is resolved against: one parameter.

    Attributes:
        shape: the parameter's shape.
        fans: its fans (per block for packed weights), or None for vectors.
        activation: the activation whose gain applies (``"linear"`` if none).
        activation_params: its parameters.
        groups: conv groups (for ``identity``).
    """

    shape: tuple[int, ...]
    fans: Fans | None
    activation: str = "linear"
    activation_params: dict[str, Any] = field(default_factory=dict)
    groups: int = 1


@dataclass(frozen=True)
class Resolved:
    """A scheme turned into numbers and one core call.

    Attributes:
        gain: the gain used (None where no gain applies).
        std: the standard deviation of the written values about their mean (their rms for
            orthogonal schemes, 0 for constants; None when nothing is drawn by initlab).
        mean: their mean (None when nothing is drawn by initlab).
        bound: the uniform bound (None unless uniform).
        call: (name of the :mod:`initlab.core` in-place function, its keyword arguments).
        elementwise: values are i.i.d. per element, so they can be drawn in blocks of the
            flattened index space (False for orthogonal schemes: they need the whole matrix).
    """

    gain: float | None
    std: float | None
    mean: float | None
    bound: float | None
    call: tuple[str, dict[str, Any]]
    elementwise: bool


def variance_gain(activation: str, params: dict[str, Any] | None = None) -> float:
    """g = 1/√E[φ(z)²] for a named activation (initlab.gain(kind="variance"))."""
    return _cached_gain(activation, tuple(sorted((params or {}).items())))


@functools.lru_cache(maxsize=256)
def _cached_gain(activation: str, params: tuple[tuple[str, Any], ...]) -> float:
    # a pure function of its arguments (quadrature): cached so a plan of a deep model computes
    # each activation's gain once
    return float(_gain(activation, "variance", **dict(params)))


def critical_point_of(
    activation: str,
    params: dict[str, Any] | None = None,
    sigma_b2: float | None = None,
    q_star: float | None = None,
) -> CriticalInit:
    """:func:`initlab.theory.critical_init` for a named activation with its parameters (cached).

    Raises:
        InitError: no critical point for these options (e.g. ReLU with σ_b² > 0).

    Examples:
        >>> round(critical_point_of("tanh", sigma_b2=0.05).sigma_w2, 6)
        1.760955
    """
    return _cached_critical(activation, tuple(sorted((params or {}).items())), sigma_b2, q_star)


@functools.lru_cache(maxsize=256)
def _cached_critical(
    activation: str,
    params: tuple[tuple[str, Any], ...],
    sigma_b2: float | None,
    q_star: float | None,
) -> CriticalInit:
    # a pure function of its arguments (quadrature + a fixed-point solve): cached so a
    # plan of a deep model computes each activation's critical point once
    return critical_init(get_activation(activation, **dict(params)), sigma_b2=sigma_b2,
                         q_star=q_star)  # fmt: skip


def _critical(s: Scheme, t: Target) -> CriticalInit:
    try:
        return critical_point_of(t.activation, t.activation_params, s.get("sigma_b2"),
                                 s.get("q_star"))  # fmt: skip
    except InitError as e:
        raise InitError(f"scheme {s}: {e}") from None


def _need_fans(s: Scheme, t: Target) -> Fans:
    if t.fans is None:
        raise InitError(
            f"scheme {s}: a parameter of shape {t.shape} has no fan_in/fan_out; use a scheme "
            "that needs no fans (normal, uniform, zeros, ones, constant)"
        )
    return t.fans


def _dist_call(std: float, dist: str, fans: Fans, mode: str, scale: float) -> Resolved:
    bound = math.sqrt(3.0) * std if dist == "uniform" else None
    return Resolved(
        gain=None,
        std=std,
        mean=0.0,
        bound=bound,
        call=(
            "variance_scaling_",
            {"scale": scale, "mode": mode, "distribution": dist,
             "fans": [fans.fan_in, fans.fan_out]},
        ),
        elementwise=True,
    )  # fmt: skip


def resolve(s: Scheme, t: Target) -> Resolved:
    """Numbers and the core call for scheme ``s`` on target ``t``.

    Raises:
        InitError: the scheme needs fans the parameter does not have, an orthogonal scheme on
            a vector, or an activation without a gain.

    Examples:
        >>> r = resolve(xavier(), Target((512, 1024), Fans(1024, 512)))
        >>> round(r.std ** 2, 7)  # 2 / 1536
        0.0013021
    """
    k = s.kind
    if k == "normal":
        std, mean = s.get("std", 1.0), s.get("mean", 0.0)
        return Resolved(None, std, mean, None, ("normal_", {"mean": mean, "std": std}), True)
    if k == "uniform":
        a, b = s.get("a"), s.get("b")
        bound = b if a == -b else None
        return Resolved(
            None, (b - a) / math.sqrt(12.0), (a + b) / 2, bound,
            ("uniform_", {"a": a, "b": b}), True,
        )
    if k == "truncated_normal":
        std = s.get("std", 1.0)
        kw = {"std": std, "lower": s.get("lower", -2.0), "upper": s.get("upper", 2.0)}
        return Resolved(None, std, 0.0, None, ("truncated_normal_", kw), True)
    if k == "critical" and t.fans is None:
        ci = _critical(s, t)
        if ci.sigma_b == 0:
            return Resolved(None, 0.0, 0.0, None, ("constant_", {"val": 0.0}), True)
        return Resolved(None, ci.sigma_b, 0.0, None,
                        ("normal_", {"mean": 0.0, "std": ci.sigma_b}), True)  # fmt: skip
    if k in ("xavier", "he", "lecun", "variance_scaling", "critical"):
        f = _need_fans(s, t)
        dist = s.get("distribution", "normal")
        if k == "xavier":
            g, mode = s.get("gain", 1.0), "fan_avg"
        elif k == "he":
            act = s.get("activation") or t.activation
            params = dict(t.activation_params) if not s.get("activation") else {}
            if s.get("negative_slope") is not None:
                params = {"negative_slope": s.get("negative_slope")}
            try:
                g = variance_gain(act, params) * s.get("factor", 1.0)
            except InitError as e:
                raise InitError(f"scheme {s}: {e}") from None
            mode = s.get("mode", "fan_in")
        elif k == "lecun":
            g, mode = s.get("factor", 1.0), "fan_in"
        elif k == "critical":
            g, mode = _critical(s, t).sigma_w, "fan_in"
        else:
            g, mode = math.sqrt(s.get("scale", 1.0)), s.get("mode", "fan_in")
        n = f.of(mode)
        if n <= 0:
            raise InitError(f"scheme {s}: {mode} of shape {t.shape} is {n}")
        std = g * math.sqrt(2.0 / (f.fan_in + f.fan_out)) if mode == "fan_avg" else g / math.sqrt(n)
        r = _dist_call(std, dist, f, mode, g * g)
        return Resolved(g, r.std, 0.0, r.bound, r.call, True)
    if k in ("orthogonal", "delta_orthogonal"):
        if len(t.shape) < 2:
            raise InitError(f"scheme {s}: a parameter of shape {t.shape} is not a matrix")
        g = s.get("gain")
        if g is None:
            g = variance_gain(t.activation, t.activation_params)
        blocks = t.fans.blocks if t.fans is not None else 1
        if k == "orthogonal":
            rows = t.shape[0] // blocks
            cols = math.prod(t.shape[1:])
            rms = g * math.sqrt(min(rows, cols) / (rows * cols))
            call = ("orthogonal_", {"gain": g, "blocks": blocks})
            return Resolved(g, rms, 0.0, None, call, False)
        if len(t.shape) < 3:
            raise InitError(
                f"scheme {s}: delta_orthogonal is for conv weights (out, in, *kernel), got "
                f"shape {t.shape}; use orthogonal()"
            )
        o, i, kk = t.shape[0], t.shape[1], math.prod(t.shape[2:])
        rms = g * math.sqrt(min(o, i) / (o * i * kk))
        return Resolved(g, rms, 0.0, None, ("delta_orthogonal_", {"gain": g}), False)
    if k == "gate_constant":
        vals = s.get("values", ())
        if len(t.shape) != 1 or not vals or t.shape[0] % len(vals):
            raise InitError(
                f"scheme {s}: needs a vector whose length is a multiple of {len(vals)} (one "
                f"block per gate), got shape {t.shape}"
            )
        mean = sum(vals) / len(vals)
        std = math.sqrt(sum((v - mean) ** 2 for v in vals) / len(vals))
        return Resolved(None, std, mean, None, ("gate_constant_", {"values": list(vals)}), False)
    if k in ("zeros", "ones", "constant"):
        v = {"zeros": 0.0, "ones": 1.0}.get(k, s.get("value", 0.0))
        return Resolved(None, 0.0, v, None, ("constant_", {"val": v}), True)
    if k == "identity":
        g = s.get("gain", 1.0)
        n = min(t.shape[0], t.shape[1]) if len(t.shape) >= 2 else 0
        numel = math.prod(t.shape) or 1
        return Resolved(
            g, g * math.sqrt(n / numel), 0.0, None,
            ("identity_", {"gain": g, "groups": t.groups}), False,
        )  # fmt: skip
    if k == "module_default":
        return Resolved(None, None, None, None, ("reset_parameters", {}), False)
    if k == "keep":
        return Resolved(None, None, None, None, ("keep", {}), False)
    raise InitError(f"scheme {s}: 'default' must be resolved by the plan (module's own rule)")


__all__ = [
    "KINDS",
    "Resolved",
    "Scheme",
    "Target",
    "constant",
    "critical",
    "critical_point_of",
    "default",
    "delta_orthogonal",
    "gate_constant",
    "he",
    "identity",
    "keep",
    "lecun",
    "normal",
    "ones",
    "orthogonal",
    "parse",
    "resolve",
    "truncated_normal",
    "uniform",
    "variance_gain",
    "xavier",
    "zeros",
]
