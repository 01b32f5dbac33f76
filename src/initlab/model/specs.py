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
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from initlab.core import schemes as core_schemes
from initlab.core.activations import get_activation
from initlab.core.fans import Fans
from initlab.core.fans import fans as core_fans
from initlab.core.gains import gain as _gain
from initlab.core.schemes import PRESETS, scheme_std, uniform_bound
from initlab.errors import InitError
from initlab.theory.critical import CriticalInit, critical_init


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

    def __call__(
        self,
        tensor: torch.Tensor,
        *,
        fans: Fans | None = None,
        activation: str = "linear",
        generator: torch.Generator | None = None,
        groups: int = 1,
        **activation_params: Any,
    ) -> torch.Tensor:
        """Draw this scheme into ``tensor`` in place (the value is also the initializer, as in
        Keras): resolved against the tensor's shape, its fans (torch layout unless ``fans=``)
        and the ``activation`` after the layer; the same numbers a plan row shows.

        Examples:
            >>> import torch
            >>> w = he()(torch.empty(256, 512), activation="relu",
            ...          generator=torch.Generator().manual_seed(0))
            >>> round(w.var().item() * 512, 1)
            2.0
        """
        if not isinstance(tensor, torch.Tensor):
            raise InitError(f"scheme {self}: expected a torch.Tensor, got {type(tensor).__name__}")
        f = fans if fans is not None else (core_fans(tensor) if tensor.dim() >= 2 else None)
        target = Target(tuple(tensor.shape), f, activation, activation_params, groups)
        with torch.no_grad():
            return draw(resolve(self, target).call, tensor, generator)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return repr(v) if isinstance(v, str) else str(v)


def _make(kind: str, **params: Any) -> Scheme:
    if kind not in _RESOLVERS:
        raise InitError(f"scheme: unknown kind {kind!r}; use one of {', '.join(_RESOLVERS)}")
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
        out_axis: the axis that indexes outputs (1 for a weight stored (in, out), such as
            GPT-2's ``Conv1D``); packed blocks cut it (for orthogonal schemes).
    """

    shape: tuple[int, ...]
    fans: Fans | None
    activation: str = "linear"
    activation_params: dict[str, Any] = field(default_factory=dict)
    groups: int = 1
    out_axis: int = 0


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
    """g = 1/√E[φ(z)²] for a named activation (initlab.gain(kind="variance")), cached.

    Examples:
        >>> round(variance_gain("relu"), 6)
        1.414214
        >>> round(variance_gain("leaky_relu", {"negative_slope": 1.0}), 6)
        1.0
    """
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


# One resolver per scheme kind: ``(Scheme, Target) -> Resolved``. A new scheme is one
# ``@register_scheme`` function here (or in user code): the plan, ``apply_plan``, JSON and
# ``Scheme.__call__`` pick it up; nothing else dispatches on the kind.
Resolver = Callable[[Scheme, Target], Resolved]
_RESOLVERS: dict[str, Resolver] = {}
_BY_NAME: dict[str, Callable[[], Scheme]] = {}


def register_scheme(
    kind: str, *, by_name: Callable[[], Scheme] | None = None
) -> Callable[[Resolver], Resolver]:
    """Register how scheme ``kind`` becomes numbers and one :mod:`initlab.core` call.

    The decorated function takes ``(scheme, target)`` and returns a :class:`Resolved`; after
    registration ``Scheme(kind, ...)`` values work in rules, plans, JSON and
    ``scheme(tensor)``. ``by_name`` makes ``parse(kind)`` (a rule written as a string) build
    the scheme with its defaults.

    Examples:
        >>> @register_scheme("half_xavier")
        ... def _half_xavier(s: Scheme, t: Target) -> Resolved:
        ...     return variance_call(s, t, 0.5 ** 0.5, "fan_avg")
        >>> import torch
        >>> w = Scheme("half_xavier")(torch.empty(256, 256), generator=torch.Generator())
        >>> round(w.var().item() * 256, 1)  # Var = 0.5 · 2/(256 + 256)
        0.5
        >>> _ = unregister_scheme("half_xavier")
    """
    if not isinstance(kind, str) or not kind.isidentifier():
        raise InitError(f"register_scheme: kind must be an identifier string, got {kind!r}")

    def deco(fn: Resolver) -> Resolver:
        _RESOLVERS[kind] = fn
        if by_name is not None:
            _BY_NAME[kind] = by_name
        return fn

    return deco


def unregister_scheme(kind: str) -> Resolver | None:
    """Remove a scheme registered with :func:`register_scheme` (returns its resolver).

    Examples:
        >>> unregister_scheme("no_such_kind") is None
        True
    """
    _BY_NAME.pop(kind, None)
    return _RESOLVERS.pop(kind, None)


def scheme_kinds() -> tuple[str, ...]:
    """Every registered scheme kind.

    Examples:
        >>> "he" in scheme_kinds() and "gate_constant" in scheme_kinds()
        True
    """
    return tuple(_RESOLVERS)


def resolve(s: Scheme, t: Target) -> Resolved:
    """Numbers and the core call for scheme ``s`` on target ``t`` (the kind's resolver).

    Raises:
        InitError: the scheme needs fans the parameter does not have, an orthogonal scheme on
            a vector, or an activation without a gain.

    Examples:
        >>> r = resolve(xavier(), Target((512, 1024), Fans(1024, 512)))
        >>> round(r.std ** 2, 7)  # 2 / 1536
        0.0013021
    """
    fn = _RESOLVERS.get(s.kind)
    if fn is None:
        raise InitError(f"scheme {s}: unknown kind {s.kind!r}; use one of {', '.join(_RESOLVERS)}")
    return fn(s, t)


def draw(call: tuple[str, dict[str, Any]], tensor: torch.Tensor, generator: Any = None) -> Any:
    """Make ``call`` (an :mod:`initlab.core` in-place function and its keyword arguments) on
    ``tensor``; ``generator`` goes to the functions that draw random numbers.

    Raises:
        InitError: a call that is not an initializer of :mod:`initlab.core` (``keep`` does
            nothing; ``reset_parameters`` needs the module: use :func:`initlab.apply_plan`).

    Examples:
        >>> w = draw(("normal_", {"mean": 0.0, "std": 0.5}), torch.empty(1000),
        ...          torch.Generator().manual_seed(0))
        >>> round(w.std().item(), 1)
        0.5
        >>> draw(("constant_", {"val": 2.0}), torch.empty(2)).tolist()
        [2.0, 2.0]
    """
    name, kwargs = call
    if name == "keep":
        return tensor
    fn = core_fn(name)
    if takes_generator(name):
        return fn(tensor, **kwargs, generator=generator)
    return fn(tensor, **kwargs)


def core_fn(name: str) -> Callable[..., Any]:
    """The :mod:`initlab.core` in-place initializer called ``name``."""
    if name not in core_schemes.__all__ or not name.endswith("_") or name.startswith("_"):
        raise InitError(
            f"plan call {name!r} is not an initlab.core initializer (e.g. 'normal_'); "
            "'reset_parameters' rows are written by initlab.apply_plan with their module"
        )
    return getattr(core_schemes, name)  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=64)
def takes_generator(name: str) -> bool:
    """Does the core initializer ``name`` draw random numbers (take ``generator=``)?"""
    return "generator" in inspect.signature(core_fn(name)).parameters


def variance_call(
    s: Scheme, t: Target, g: float, mode: str, distribution: str | None = None
) -> Resolved:
    """std = g/√fan(mode) written by ``variance_scaling_``: every Xavier/He/LeCun-like scheme.

    Examples:
        >>> r = variance_call(lecun(), Target((8, 4), Fans(4, 8)), 1.0, "fan_in")
        >>> r.std, r.call[1]["mode"]
        (0.5, 'fan_in')
    """
    f = _need_fans(s, t)
    dist = distribution or s.get("distribution", "normal")
    n = f.of(mode)
    if n <= 0:
        raise InitError(f"scheme {s}: {mode} of shape {t.shape} is {n}")
    std = scheme_std(g, mode, f, f"scheme {s}")
    call = ("variance_scaling_", {"scale": g * g, "mode": mode, "distribution": dist,
                                  "fans": [f.fan_in, f.fan_out]})  # fmt: skip
    bound = uniform_bound(std) if dist == "uniform" else None
    return Resolved(g, std, 0.0, bound, call, True)


def _gain_error(s: Scheme, fn: Callable[[], float]) -> float:
    try:
        return fn()
    except InitError as e:
        raise InitError(f"scheme {s}: {e}") from None


@register_scheme("normal", by_name=lambda: normal())
def _resolve_normal(s: Scheme, t: Target) -> Resolved:
    std, mean = s.get("std", 1.0), s.get("mean", 0.0)
    return Resolved(None, std, mean, None, ("normal_", {"mean": mean, "std": std}), True)


@register_scheme("uniform", by_name=lambda: uniform(bound=1.0))
def _resolve_uniform(s: Scheme, t: Target) -> Resolved:
    a, b = s.get("a"), s.get("b")
    bound = b if a == -b else None
    call = ("uniform_", {"a": a, "b": b})
    return Resolved(None, (b - a) / math.sqrt(12.0), (a + b) / 2, bound, call, True)


@register_scheme("truncated_normal", by_name=lambda: truncated_normal())
def _resolve_truncated_normal(s: Scheme, t: Target) -> Resolved:
    std = s.get("std", 1.0)
    kw = {"std": std, "lower": s.get("lower", -2.0), "upper": s.get("upper", 2.0)}
    return Resolved(None, std, 0.0, None, ("truncated_normal_", kw), True)


@register_scheme("xavier", by_name=lambda: xavier())
def _resolve_xavier(s: Scheme, t: Target) -> Resolved:
    return variance_call(s, t, s.get("gain", 1.0), PRESETS["xavier"].mode)


@register_scheme("he", by_name=lambda: he())
def _resolve_he(s: Scheme, t: Target) -> Resolved:
    act = s.get("activation") or t.activation
    params = dict(t.activation_params) if not s.get("activation") else {}
    if s.get("negative_slope") is not None:
        params = {"negative_slope": s.get("negative_slope")}
    g = _gain_error(s, lambda: variance_gain(act, params)) * s.get("factor", 1.0)
    return variance_call(s, t, g, s.get("mode", PRESETS["he"].mode))


@register_scheme("lecun", by_name=lambda: lecun())
def _resolve_lecun(s: Scheme, t: Target) -> Resolved:
    return variance_call(s, t, s.get("factor", 1.0), PRESETS["lecun"].mode)


@register_scheme("variance_scaling")
def _resolve_variance_scaling(s: Scheme, t: Target) -> Resolved:
    return variance_call(s, t, math.sqrt(s.get("scale", 1.0)), s.get("mode", "fan_in"))


@register_scheme("critical", by_name=lambda: critical())
def _resolve_critical(s: Scheme, t: Target) -> Resolved:
    ci = _critical(s, t)
    if t.fans is not None:  # a weight: N(0, σ_w²/fan_in)
        return variance_call(s, t, ci.sigma_w, "fan_in")
    if ci.sigma_b == 0:  # a bias: N(0, σ_b²)
        return Resolved(None, 0.0, 0.0, None, ("constant_", {"val": 0.0}), True)
    return Resolved(None, ci.sigma_b, 0.0, None,
                    ("normal_", {"mean": 0.0, "std": ci.sigma_b}), True)  # fmt: skip


def _matrix_gain(s: Scheme, t: Target) -> float:
    if len(t.shape) < 2:
        raise InitError(f"scheme {s}: a parameter of shape {t.shape} is not a matrix")
    g = s.get("gain")
    return variance_gain(t.activation, t.activation_params) if g is None else g


@register_scheme("orthogonal", by_name=lambda: orthogonal())
def _resolve_orthogonal(s: Scheme, t: Target) -> Resolved:
    g = _matrix_gain(s, t)
    blocks = t.fans.blocks if t.fans is not None else 1
    axis = t.out_axis if len(t.shape) >= 2 else 0
    rows = t.shape[axis] // blocks
    cols = math.prod(t.shape) // t.shape[axis]
    rms = g * math.sqrt(min(rows, cols) / (rows * cols))
    kwargs: dict[str, Any] = {"gain": g, "blocks": blocks}
    if axis:
        kwargs["out_dim"] = axis
    return Resolved(g, rms, 0.0, None, ("orthogonal_", kwargs), False)


@register_scheme("delta_orthogonal", by_name=lambda: delta_orthogonal())
def _resolve_delta_orthogonal(s: Scheme, t: Target) -> Resolved:
    g = _matrix_gain(s, t)
    if len(t.shape) < 3:
        raise InitError(
            f"scheme {s}: delta_orthogonal is for conv weights (out, in, *kernel), got "
            f"shape {t.shape}; use orthogonal()"
        )
    o, i, kk = t.shape[0], t.shape[1], math.prod(t.shape[2:])
    rms = g * math.sqrt(min(o, i) / (o * i * kk))
    return Resolved(g, rms, 0.0, None, ("delta_orthogonal_", {"gain": g}), False)


@register_scheme("gate_constant")
def _resolve_gate_constant(s: Scheme, t: Target) -> Resolved:
    vals = s.get("values", ())
    if len(t.shape) != 1 or not vals or t.shape[0] % len(vals):
        raise InitError(
            f"scheme {s}: needs a vector whose length is a multiple of {len(vals)} (one "
            f"block per gate), got shape {t.shape}"
        )
    mean = sum(vals) / len(vals)
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / len(vals))
    return Resolved(None, std, mean, None, ("gate_constant_", {"values": list(vals)}), False)


def _constant(v: float) -> Resolved:
    return Resolved(None, 0.0, v, None, ("constant_", {"val": v}), True)


register_scheme("zeros", by_name=lambda: zeros())(lambda s, t: _constant(0.0))
register_scheme("ones", by_name=lambda: ones())(lambda s, t: _constant(1.0))
register_scheme("constant")(lambda s, t: _constant(s.get("value", 0.0)))


@register_scheme("identity", by_name=lambda: identity())
def _resolve_identity(s: Scheme, t: Target) -> Resolved:
    g = s.get("gain", 1.0)
    # ones written: eye_ min(rows, cols); dirac_ min(out/groups, in/groups) per group
    k = t.groups if len(t.shape) > 2 else 1
    n = k * min(t.shape[0] // k, t.shape[1]) if len(t.shape) >= 2 else 0
    numel = math.prod(t.shape) or 1
    call = ("identity_", {"gain": g, "groups": t.groups})
    return Resolved(g, g * math.sqrt(n / numel), 0.0, None, call, False)


@register_scheme("module_default")
def _resolve_module_default(s: Scheme, t: Target) -> Resolved:
    return Resolved(None, None, None, None, ("reset_parameters", {}), False)


@register_scheme("keep", by_name=lambda: keep())
def _resolve_keep(s: Scheme, t: Target) -> Resolved:
    return Resolved(None, None, None, None, ("keep", {}), False)


@register_scheme("default", by_name=lambda: default())
def _resolve_default(s: Scheme, t: Target) -> Resolved:
    raise InitError(f"scheme {s}: 'default' must be resolved by the plan (module's own rule)")


#: The built-in scheme kinds (see :func:`scheme_kinds` for those registered since).
KINDS = scheme_kinds()


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
    "draw",
    "gate_constant",
    "he",
    "identity",
    "keep",
    "lecun",
    "normal",
    "ones",
    "orthogonal",
    "parse",
    "register_scheme",
    "resolve",
    "scheme_kinds",
    "truncated_normal",
    "uniform",
    "unregister_scheme",
    "variance_call",
    "variance_gain",
    "xavier",
    "zeros",
]
