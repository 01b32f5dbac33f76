"""Activations: one registry shared by the gains, the theory and the model walker.

An :class:`Activation` carries the function (NumPy, float64), its first and second derivatives
(closed form for the built-ins, automatic differentiation for any torch callable), the points
where it is not smooth, the torch function used by models, and its Gaussian moments
E[φ(√q z)^k], E[φ'(√q z)^2] by quadrature (closed forms for the ReLU family and linear).

Look one up with :func:`get_activation` (a name, an :class:`Activation`, or any callable) and add
your own with :func:`register_activation`.

The registry, the moments and the gains need NumPy only: torch (and SciPy) load on the first call
that needs them (a torch function of an activation, a module to match, a torch callable to
wrap), so ``initlab scale`` and ``initlab gain`` start without paying for torch.

Examples:
    >>> from initlab.core.activations import get_activation
    >>> act = get_activation("leaky_relu", negative_slope=0.2)
    >>> round(act.second_moment(1.0), 6)
    0.52
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

from initlab.core.gaussian import gaussian_expectation
from initlab.core.lazy_torch import is_module, is_tensor
from initlab.errors import InitError

if TYPE_CHECKING:
    import torch

ArrayFn = Callable[[np.ndarray], np.ndarray]

# SELU constants (Klambauer et al. 2017, eq. 14): the solution of E[selu(z)] = 0, E[selu(z)^2] = 1.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@dataclass(frozen=True)
class Activation:
    """An elementwise nonlinearity φ with what initialization theory needs to know about it.

    Attributes:
        name: canonical name (``"relu"``, ``"gelu_tanh"``, ``"custom:<fn name>"``...).
        fn: φ on float64 NumPy arrays.
        d1: φ' on float64 NumPy arrays.
        d2: φ'' on float64 NumPy arrays.
        torch_fn: φ on torch tensors (what a model calls).
        kinks: points where φ or a derivative jumps (quadrature splits there).
        params: the parameters the activation was built with (e.g. ``negative_slope``).
        homogeneous: φ(c x) = c φ(x) for c > 0 (ReLU family, linear): moments scale with q.
        glu: a gated linear unit ``φ(a) * b`` with an independent linear gate ``b``; the moments
            are those of the product (E[(φ(a) b)^2] = q E[φ(a)^2] for a, b ~ N(0, q)).

    Examples:
        >>> act = get_activation("tanh")
        >>> round(act.second_moment(1.0), 8)
        0.39429449
    """

    name: str
    fn: ArrayFn
    d1: ArrayFn
    d2: ArrayFn
    torch_fn: Callable[[torch.Tensor], torch.Tensor]
    kinks: tuple[float, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    homogeneous: bool = False
    glu: bool = False

    @property
    def base_name(self) -> str:
        """The registry name without a variant suffix (``"gelu_tanh"`` → ``"gelu"``)."""
        return "gelu" if self.name == "gelu_tanh" else self.name

    @property
    def module_type(self) -> type[torch.nn.Module] | None:
        """The torch module class of this activation (``nn.GELU``), or None."""
        return next((c for c, n in _module_tables()[0].items() if n == self.base_name), None)

    @property
    def glu_product(self) -> str:
        """The name of the gated product with this activation as gate (SiLU → ``"swiglu"``)."""
        return glu_product_name(self.base_name)

    @property
    def can_die(self) -> bool:
        """Units can be dead (never positive on a batch, zero gradient): ReLU, ReLU6."""
        return self.base_name in _CAN_DIE

    @property
    def saturates(self) -> bool:
        """φ' gets small on a tail (tanh, sigmoid, GELU's left tail...); False for the
        piecewise-linear ReLU/leaky/PReLU/linear, which have no saturated share."""
        return self.base_name not in _NEVER_SATURATE and not self.glu

    @property
    def textbook_scheme(self) -> str:
        """The guideline table's scheme for a layer followed by this activation: ``"xavier"``
        (linear, tanh, sigmoid, softsign, hardtanh, hardsigmoid), ``"lecun"`` (SELU) or
        ``"he"`` (everything else, with this activation's variance gain).

        Examples:
            >>> get_activation("tanh").textbook_scheme, get_activation("gelu").textbook_scheme
            ('xavier', 'he')
        """
        return _TEXTBOOK.get(self.base_name, "he")

    def __call__(self, x: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        if is_tensor(x):
            return self.torch_fn(x)
        return self.fn(np.asarray(x, dtype=np.float64))

    def expect(self, g: ArrayFn, q: float | np.ndarray = 1.0) -> np.ndarray | float:
        """E[g(√q z)] with this activation's kinks used as quadrature breakpoints."""
        return gaussian_expectation(g, q, kinks=self.kinks)

    def mean(self, q: float | np.ndarray = 1.0) -> np.ndarray | float:
        """E[φ(√q z)] (0 for a GLU: the linear gate has mean 0)."""
        if self.glu:
            return np.zeros_like(np.asarray(q, dtype=np.float64)) + 0.0
        return self.expect(self.fn, q)

    def second_moment(self, q: float | np.ndarray = 1.0) -> np.ndarray | float:
        """E[φ(√q z)^2]; for a GLU, E[(φ(a) b)^2] = q E[φ(a)^2] with a, b ~ N(0, q) independent."""
        q_arr = np.asarray(q, dtype=np.float64)
        if self.homogeneous:
            base = self.expect(lambda x: self.fn(x) ** 2, 1.0)
            m = q_arr * base
        else:
            m = self.expect(lambda x: self.fn(x) ** 2, q_arr)
        if self.glu:
            m = m * q_arr
        return float(m) if np.ndim(m) == 0 else m

    def derivative_second_moment(self, q: float | np.ndarray = 1.0) -> np.ndarray | float:
        """E[φ'(√q z)^2]: the per-layer gradient gain factor (χ₁ = σ_w² times this)."""
        if self.glu:
            raise InitError(
                f"activation {self.name!r} is a gated unit of two inputs: it has no single "
                "derivative; use its gate activation for mean-field quantities"
            )
        q_arr = np.asarray(q, dtype=np.float64)
        if self.homogeneous:
            base = self.expect(lambda x: self.d1(x) ** 2, 1.0)
            m = np.zeros_like(q_arr) + base
        else:
            m = self.expect(lambda x: self.d1(x) ** 2, q_arr)
        return float(m) if np.ndim(m) == 0 else m


# ---------------------------------------------------------------- the built-in activations ---
@cache
def _functional() -> Any:
    """``torch.nn.functional``, imported by the first call of a built-in's ``torch_fn``."""
    import torch.nn.functional

    return torch.nn.functional


@cache
def _special() -> Any:
    """``scipy.special`` (expit, ndtr, erf), imported by the first activation that needs it."""
    from scipy import special

    return special


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return _special().expit(x)


def _phi_pdf(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _phi_cdf(x: np.ndarray) -> np.ndarray:
    return _special().ndtr(x)


def _make_linear() -> Activation:
    return Activation(
        "linear",
        fn=lambda x: x,
        d1=lambda x: np.ones_like(x),
        d2=lambda x: np.zeros_like(x),
        torch_fn=lambda x: x,
        homogeneous=True,
    )


def _make_leaky(name: str, slope: float, params: dict[str, Any]) -> Activation:
    return Activation(
        name,
        fn=lambda x: np.where(x > 0, x, slope * x),
        d1=lambda x: np.where(x > 0, 1.0, slope),
        d2=lambda x: np.zeros_like(x),
        torch_fn=(
            (lambda x: _functional().relu(x))
            if slope == 0
            else (lambda x: _functional().leaky_relu(x, slope))
        ),
        kinks=(0.0,),
        params=params,
        homogeneous=True,
    )


def _relu(**kw: Any) -> Activation:
    _no_params("relu", kw)
    return _make_leaky("relu", 0.0, {})


def _leaky_relu(negative_slope: float = 0.01, **kw: Any) -> Activation:
    _no_params("leaky_relu", kw)
    return _make_leaky("leaky_relu", float(negative_slope), {"negative_slope": negative_slope})


def _prelu(init: float = 0.25, **kw: Any) -> Activation:
    _no_params("prelu", kw)
    return _make_leaky("prelu", float(init), {"init": init})


def _elu_like(name: str, alpha: float, scale: float, celu: bool, params: dict) -> Activation:
    # celu(x) = max(0,x) + min(0, α(exp(x/α) − 1)); elu uses exp(x) instead of exp(x/α).
    if celu:

        def neg(x: np.ndarray) -> np.ndarray:
            return alpha * np.expm1(np.minimum(x, 0) / alpha)

        def neg_d1(x: np.ndarray) -> np.ndarray:
            return np.exp(np.minimum(x, 0) / alpha)

        def neg_d2(x: np.ndarray) -> np.ndarray:
            return np.exp(np.minimum(x, 0) / alpha) / alpha

        def tfn(x: torch.Tensor) -> torch.Tensor:
            return _functional().celu(x, alpha)
    else:

        def neg(x: np.ndarray) -> np.ndarray:
            return alpha * np.expm1(np.minimum(x, 0))

        def neg_d1(x: np.ndarray) -> np.ndarray:
            return alpha * np.exp(np.minimum(x, 0))

        def neg_d2(x: np.ndarray) -> np.ndarray:
            return alpha * np.exp(np.minimum(x, 0))

        if scale == SELU_SCALE and alpha == SELU_ALPHA:

            def tfn(x: torch.Tensor) -> torch.Tensor:
                return _functional().selu(x)
        else:

            def tfn(x: torch.Tensor) -> torch.Tensor:
                return scale * _functional().elu(x, alpha)

    return Activation(
        name,
        fn=lambda x: scale * np.where(x > 0, x, neg(x)),
        d1=lambda x: scale * np.where(x > 0, 1.0, neg_d1(x)),
        d2=lambda x: scale * np.where(x > 0, 0.0, neg_d2(x)),
        torch_fn=tfn,
        kinks=(0.0,),
        params=params,
    )


def _elu(alpha: float = 1.0, **kw: Any) -> Activation:
    _no_params("elu", kw)
    return _elu_like("elu", float(alpha), 1.0, False, {"alpha": alpha})


def _celu(alpha: float = 1.0, **kw: Any) -> Activation:
    _no_params("celu", kw)
    if alpha == 0:
        raise InitError("celu: alpha must be non-zero (it divides x); pass alpha > 0")
    return _elu_like("celu", float(alpha), 1.0, True, {"alpha": alpha})


def _selu(**kw: Any) -> Activation:
    _no_params("selu", kw)
    return _elu_like("selu", SELU_ALPHA, SELU_SCALE, False, {})


def _gelu(approximate: str = "none", **kw: Any) -> Activation:
    _no_params("gelu", kw)
    if approximate == "none":
        return Activation(
            "gelu",
            fn=lambda x: x * _phi_cdf(x),
            d1=lambda x: _phi_cdf(x) + x * _phi_pdf(x),
            d2=lambda x: (2.0 - x * x) * _phi_pdf(x),
            torch_fn=lambda x: _functional().gelu(x),
            params={"approximate": "none"},
        )
    if approximate == "tanh":
        k = math.sqrt(2.0 / math.pi)

        def inner(x: np.ndarray) -> np.ndarray:
            return k * (x + 0.044715 * x**3)

        def dinner(x: np.ndarray) -> np.ndarray:
            return k * (1.0 + 3 * 0.044715 * x * x)

        def fn(x: np.ndarray) -> np.ndarray:
            return 0.5 * x * (1.0 + np.tanh(inner(x)))

        def d1(x: np.ndarray) -> np.ndarray:
            t = np.tanh(inner(x))
            return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dinner(x)

        def d2(x: np.ndarray) -> np.ndarray:
            t = np.tanh(inner(x))
            s = 1.0 - t * t
            di = dinner(x)
            return s * di + 0.5 * x * (-2.0 * t * s * di * di + s * k * 6 * 0.044715 * x)

        return Activation(
            "gelu_tanh",
            fn=fn,
            d1=d1,
            d2=d2,
            torch_fn=lambda x: _functional().gelu(x, approximate="tanh"),
            params={"approximate": "tanh"},
        )
    raise InitError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def _silu(beta: float = 1.0, **kw: Any) -> Activation:
    _no_params("silu", kw)
    b = float(beta)

    def d1(x: np.ndarray) -> np.ndarray:
        s = _sigmoid(b * x)
        return s + b * x * s * (1 - s)

    def d2(x: np.ndarray) -> np.ndarray:
        s = _sigmoid(b * x)
        ds = b * s * (1 - s)
        return 2 * ds + b * x * ds * (1 - 2 * s)

    return Activation(
        "silu" if b == 1.0 else "swish",
        fn=lambda x: x * _sigmoid(b * x),
        d1=d1,
        d2=d2,
        torch_fn=(
            (lambda x: _functional().silu(x)) if b == 1.0 else (lambda x: x * (b * x).sigmoid())
        ),
        params={} if b == 1.0 else {"beta": b},
    )


def _softplus(beta: float = 1.0, **kw: Any) -> Activation:
    kw.pop("threshold", None)
    _no_params("softplus", kw)
    b = float(beta)
    if b <= 0:
        raise InitError(f"softplus: beta must be > 0, got {beta!r}")
    return Activation(
        "softplus",
        fn=lambda x: np.logaddexp(0.0, b * x) / b,
        d1=lambda x: _sigmoid(b * x),
        d2=lambda x: b * _sigmoid(b * x) * (1 - _sigmoid(b * x)),
        torch_fn=lambda x: _functional().softplus(x, beta=b),
        params={"beta": b},
    )


def _mish(**kw: Any) -> Activation:
    _no_params("mish", kw)

    def sp(x: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, x)

    def d1(x: np.ndarray) -> np.ndarray:
        t = np.tanh(sp(x))
        return t + x * (1 - t * t) * _sigmoid(x)

    def d2(x: np.ndarray) -> np.ndarray:
        t = np.tanh(sp(x))
        s = _sigmoid(x)
        sech2 = 1 - t * t
        return 2 * sech2 * s + x * (-2 * t * sech2 * s * s + sech2 * s * (1 - s))

    return Activation(
        "mish",
        fn=lambda x: x * np.tanh(sp(x)),
        d1=d1,
        d2=d2,
        torch_fn=lambda x: _functional().mish(x),
    )


def _sigmoid_act(**kw: Any) -> Activation:
    _no_params("sigmoid", kw)

    def d1(x: np.ndarray) -> np.ndarray:
        s = _sigmoid(x)
        return s * (1 - s)

    def d2(x: np.ndarray) -> np.ndarray:
        s = _sigmoid(x)
        return s * (1 - s) * (1 - 2 * s)

    return Activation("sigmoid", fn=_sigmoid, d1=d1, d2=d2, torch_fn=lambda x: x.sigmoid())


def _tanh(**kw: Any) -> Activation:
    _no_params("tanh", kw)
    return Activation(
        "tanh",
        fn=np.tanh,
        d1=lambda x: 1.0 - np.tanh(x) ** 2,
        d2=lambda x: -2.0 * np.tanh(x) * (1.0 - np.tanh(x) ** 2),
        torch_fn=lambda x: x.tanh(),
    )


def _erf(**kw: Any) -> Activation:
    """erf, the sigmoid of infinite-network theory (Williams 1997): its Gaussian moments have
    closed forms (the arcsine kernel), which the tests use as oracles for the quadrature."""
    _no_params("erf", kw)
    c = 2.0 / math.sqrt(math.pi)
    return Activation(
        "erf",
        fn=lambda x: _special().erf(x),
        d1=lambda x: c * np.exp(-x * x),
        d2=lambda x: -2.0 * c * x * np.exp(-x * x),
        torch_fn=lambda x: x.erf(),
    )


def _hardtanh(min_val: float = -1.0, max_val: float = 1.0, **kw: Any) -> Activation:
    _no_params("hardtanh", kw)
    lo, hi = float(min_val), float(max_val)
    if not lo < hi:
        raise InitError(f"hardtanh: min_val ({lo}) must be below max_val ({hi})")
    return Activation(
        "hardtanh",
        fn=lambda x: np.clip(x, lo, hi),
        d1=lambda x: ((x > lo) & (x < hi)).astype(np.float64),
        d2=lambda x: np.zeros_like(x),
        torch_fn=lambda x: _functional().hardtanh(x, lo, hi),
        kinks=(lo, hi),
        params={"min_val": lo, "max_val": hi},
    )


def _relu6(**kw: Any) -> Activation:
    _no_params("relu6", kw)
    return Activation(
        "relu6",
        fn=lambda x: np.clip(x, 0.0, 6.0),
        d1=lambda x: ((x > 0) & (x < 6)).astype(np.float64),
        d2=lambda x: np.zeros_like(x),
        torch_fn=lambda x: _functional().relu6(x),
        kinks=(0.0, 6.0),
    )


def _softsign(**kw: Any) -> Activation:
    _no_params("softsign", kw)
    return Activation(
        "softsign",
        fn=lambda x: x / (1 + np.abs(x)),
        d1=lambda x: 1.0 / (1 + np.abs(x)) ** 2,
        d2=lambda x: -2.0 * np.sign(x) / (1 + np.abs(x)) ** 3,
        torch_fn=lambda x: _functional().softsign(x),
        kinks=(0.0,),
    )


def _hardswish(**kw: Any) -> Activation:
    _no_params("hardswish", kw)
    return Activation(
        "hardswish",
        fn=lambda x: x * np.clip(x + 3, 0, 6) / 6,
        d1=lambda x: np.where(x <= -3, 0.0, np.where(x >= 3, 1.0, (2 * x + 3) / 6)),
        d2=lambda x: np.where((x > -3) & (x < 3), 1.0 / 3.0, 0.0),
        torch_fn=lambda x: _functional().hardswish(x),
        kinks=(-3.0, 3.0),
    )


def _hardsigmoid(**kw: Any) -> Activation:
    _no_params("hardsigmoid", kw)
    return Activation(
        "hardsigmoid",
        fn=lambda x: np.clip(x / 6 + 0.5, 0, 1),
        d1=lambda x: np.where((x > -3) & (x < 3), 1.0 / 6.0, 0.0),
        d2=lambda x: np.zeros_like(x),
        torch_fn=lambda x: _functional().hardsigmoid(x),
        kinks=(-3.0, 3.0),
    )


def _glu_of(name: str, gate: Activation) -> Activation:
    def tfn(x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=-1)
        return gate.torch_fn(a) * b

    return Activation(
        name,
        fn=gate.fn,
        d1=gate.d1,
        d2=gate.d2,
        torch_fn=tfn,
        kinks=gate.kinks,
        params={"gate": gate.name},
        homogeneous=gate.homogeneous,
        glu=True,
    )


def _swiglu(**kw: Any) -> Activation:
    _no_params("swiglu", kw)
    return _glu_of("swiglu", _silu())


def _geglu(approximate: str = "none", **kw: Any) -> Activation:
    _no_params("geglu", kw)
    return _glu_of("geglu", _gelu(approximate))


def _reglu(**kw: Any) -> Activation:
    _no_params("reglu", kw)
    return _glu_of("reglu", _relu())


def _glu(**kw: Any) -> Activation:
    _no_params("glu", kw)
    return _glu_of("glu", _sigmoid_act())


def _linear(**kw: Any) -> Activation:
    _no_params("linear", kw)
    return _make_linear()


def _no_params(name: str, kw: Mapping[str, Any]) -> None:
    if kw:
        raise InitError(
            f"activation {name!r} takes no parameter(s) {sorted(kw)}; "
            "see initlab.core.activations.describe_activations() for each one's parameters"
        )


_BUILTINS: dict[str, Callable[..., Activation]] = {
    "linear": _linear,
    "relu": _relu,
    "leaky_relu": _leaky_relu,
    "prelu": _prelu,
    "elu": _elu,
    "selu": _selu,
    "celu": _celu,
    "gelu": _gelu,
    "silu": _silu,
    "swish": _silu,
    "mish": _mish,
    "softplus": _softplus,
    "sigmoid": _sigmoid_act,
    "tanh": _tanh,
    "erf": _erf,
    "hardtanh": _hardtanh,
    "relu6": _relu6,
    "softsign": _softsign,
    "hardswish": _hardswish,
    "hardsigmoid": _hardsigmoid,
    "swiglu": _swiglu,
    "geglu": _geglu,
    "reglu": _reglu,
    "glu": _glu,
}

_ALIASES = {
    "identity": "linear",
    "none": "linear",
    "conv1d": "linear",
    "conv2d": "linear",
    "conv3d": "linear",
    "conv_transpose1d": "linear",
    "conv_transpose2d": "linear",
    "conv_transpose3d": "linear",
    "gelu_tanh": "gelu",
    "leakyrelu": "leaky_relu",
    "hard_tanh": "hardtanh",
    "hard_swish": "hardswish",
    "hard_sigmoid": "hardsigmoid",
}

# User registrations (register_activation). Kept apart from the built-ins, which never change.
_USER: dict[str, Callable[..., Activation]] = {}


def activation_names() -> list[str]:
    """Every name :func:`get_activation` accepts (built-ins, aliases and registered ones).

    Examples:
        >>> "gelu" in activation_names()
        True
    """
    return sorted({*_BUILTINS, *_ALIASES, *_USER})


def _normalize(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def register_activation(
    name: str,
    fn: Callable[..., Any],
    *,
    d1: ArrayFn | None = None,
    d2: ArrayFn | None = None,
    kinks: tuple[float, ...] = (),
    overwrite: bool = False,
) -> Activation:
    """Register an activation under ``name`` so every initlab function accepts the name.

    ``fn`` may be a torch function (derivatives then come from autograd) or a NumPy function
    (derivatives by central differences unless ``d1``/``d2`` are given).

    Examples:
        >>> import torch
        >>> act = register_activation("my_sin", torch.sin, overwrite=True)
        >>> round(get_activation("my_sin").second_moment(1.0), 6)  # (1 - e^-2) / 2
        0.432332
    """
    key = _normalize(name)
    if key in _BUILTINS or key in _ALIASES:
        raise InitError(
            f"register_activation: {name!r} is a built-in activation; pick another name"
        )
    if key in _USER and not overwrite:
        raise InitError(
            f"register_activation: {name!r} is already registered; "
            "pass overwrite=True to replace it"
        )
    act = from_callable(fn, name=key, d1=d1, d2=d2, kinks=kinks)
    _USER[key] = lambda **kw: (_no_params(key, kw), act)[1]
    return act


def from_callable(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    d1: ArrayFn | None = None,
    d2: ArrayFn | None = None,
    kinks: tuple[float, ...] = (),
) -> Activation:
    """Wrap any elementwise callable (torch or NumPy) as an :class:`Activation`.

    Examples:
        >>> import torch
        >>> act = from_callable(lambda x: torch.tanh(x))
        >>> round(act.second_moment(1.0), 6)
        0.394294
    """
    import torch  # probing for a torch function needs a tensor

    if isinstance(fn, torch.nn.Module):
        module = fn
        fn = module.forward
        name = name or type(module).__name__.lower()
    label = name or f"custom:{getattr(fn, '__name__', type(fn).__name__)}"
    probe = np.array([-1.5, 0.0, 0.7], dtype=np.float64)
    torch_ok = False
    try:
        # Probe with a tensor that requires grad: a NumPy function (np.tanh) applied to a plain
        # tensor returns a tensor too (__array_wrap__), but autograd through it is impossible,
        # so it must take the NumPy path; NumPy refuses a grad-requiring tensor.
        out = fn(torch.from_numpy(probe).requires_grad_() * 1.0)
        torch_ok = isinstance(out, torch.Tensor) and out.shape == (3,)
    except Exception:
        torch_ok = False
    if torch_ok:

        def np_fn(x: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return fn(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))).numpy()

        def autodiff(order: int) -> ArrayFn:
            def deriv(x: np.ndarray) -> np.ndarray:
                t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64)).requires_grad_()
                with torch.enable_grad():
                    y = fn(t)
                    (g,) = torch.autograd.grad(y.sum(), t, create_graph=order > 1)
                    if order > 1:
                        if not g.requires_grad:
                            return np.zeros_like(x)
                        (g,) = torch.autograd.grad(g.sum(), t)
                return g.detach().numpy()

            return deriv

        torch_fn = fn
        f1 = d1 or autodiff(1)
        f2 = d2 or autodiff(2)
    else:
        try:
            out = np.asarray(fn(probe))
        except Exception as e:  # pragma: no cover - message path tested
            raise InitError(
                f"activation {label!r}: calling it on a float64 tensor or NumPy array failed "
                f"({type(e).__name__}: {e}); pass an elementwise function of one array"
            ) from e
        if out.shape != probe.shape:
            raise InitError(
                f"activation {label!r} is not elementwise (input shape (3,) gave {out.shape}); "
                "pass a function applied to each element"
            )

        def np_fn(x: np.ndarray) -> np.ndarray:
            return np.asarray(fn(x), dtype=np.float64)

        h1, h2 = 1e-6, 1e-4
        f1 = d1 or (lambda x: (np_fn(x + h1) - np_fn(x - h1)) / (2 * h1))
        f2 = d2 or (lambda x: (np_fn(x + h2) - 2 * np_fn(x) + np_fn(x - h2)) / (h2 * h2))

        def torch_fn(x: torch.Tensor) -> torch.Tensor:
            return torch.as_tensor(np_fn(x.detach().cpu().double().numpy()), dtype=x.dtype).to(
                x.device
            )

    return Activation(label, fn=np_fn, d1=f1, d2=f2, torch_fn=torch_fn, kinks=tuple(kinks))


@cache
def _module_tables() -> tuple[dict[type[torch.nn.Module], str], dict[type[torch.nn.Module], str]]:
    """(:data:`ACTIVATION_MODULES`, the same with ``nn.Identity`` → ``"linear"``), built on first
    use: importing torch is what the registry's users without modules must not pay for."""
    from torch import nn

    modules: dict[type[nn.Module], str] = {
        nn.ReLU: "relu",
        nn.ReLU6: "relu6",
        nn.LeakyReLU: "leaky_relu",
        nn.PReLU: "prelu",
        nn.ELU: "elu",
        nn.SELU: "selu",
        nn.CELU: "celu",
        nn.GELU: "gelu",
        nn.SiLU: "silu",
        nn.Mish: "mish",
        nn.Softplus: "softplus",
        nn.Sigmoid: "sigmoid",
        nn.Tanh: "tanh",
        nn.Hardtanh: "hardtanh",
        nn.Softsign: "softsign",
        nn.Hardswish: "hardswish",
        nn.Hardsigmoid: "hardsigmoid",
    }
    return modules, {**modules, nn.Identity: "linear"}


def __getattr__(name: str) -> Any:
    """``ACTIVATION_MODULES``: the torch module class of each built-in activation (the one
    module → name table; the doctor taps these modules, the plan reads the activation after a
    layer from them). Built, with torch, on first access (PEP 562), then a plain attribute."""
    if name == "ACTIVATION_MODULES":
        value = globals()[name] = _module_tables()[0]
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Gate activation → name of its gated product φ(a)·b (Shazeer 2020, "GLU Variants").
GLU_PRODUCTS: dict[str, str] = {"silu": "swiglu", "gelu": "geglu", "relu": "reglu",
                                "sigmoid": "glu"}  # fmt: skip
#: Activations whose units can die (never positive on a batch ⇒ zero gradient).
_CAN_DIE = frozenset({"relu", "relu6"})
#: Piecewise-linear activations without a saturating tail.
_NEVER_SATURATE = frozenset({"relu", "leaky_relu", "prelu", "linear"})
#: The guideline table's scheme of an activation: Xavier for odd/saturating φ with φ'(0) ≈ 1 or
#: a bounded range (Glorot & Bengio 2010), LeCun for SELU (Klambauer et al. 2017), He for the
#: rest (ReLU-like and smooth ReLU variants; He et al. 2015 with the variance gain).
_TEXTBOOK = {"linear": "xavier", "tanh": "xavier", "sigmoid": "xavier", "softsign": "xavier",
             "hardtanh": "xavier", "hardsigmoid": "xavier", "selu": "lecun"}  # fmt: skip


def glu_product_name(gate: str) -> str:
    """The gated product of gate activation ``gate``: ``"silu"`` → ``"swiglu"``; an unnamed one
    is ``"<gate>_glu"``.

    Examples:
        >>> glu_product_name("gelu"), glu_product_name("tanh")
        ('geglu', 'tanh_glu')
    """
    return GLU_PRODUCTS.get(gate, f"{gate}_glu")


def _from_module(m: torch.nn.Module) -> Activation:
    import torch

    for cls, name in _module_tables()[1].items():
        if type(m) is cls:
            if isinstance(m, torch.nn.LeakyReLU):
                return get_activation(name, negative_slope=m.negative_slope)
            if isinstance(m, torch.nn.PReLU):
                return get_activation(name, init=float(m.weight.detach().flatten()[0]))
            if isinstance(m, torch.nn.ELU | torch.nn.CELU):
                return get_activation(name, alpha=m.alpha)
            if isinstance(m, torch.nn.GELU):
                return get_activation(name, approximate=m.approximate)
            if isinstance(m, torch.nn.Softplus):
                return get_activation(name, beta=m.beta)
            if isinstance(m, torch.nn.Hardtanh) and not isinstance(m, torch.nn.ReLU6):
                return get_activation(name, min_val=m.min_val, max_val=m.max_val)
            return get_activation(name)
    return from_callable(m)


def get_activation(activation: str | Activation | Callable[..., Any], **params: Any) -> Activation:
    """Look up an activation by name (with its parameters), or wrap a module or callable.

    Args:
        activation: a name such as ``"relu"``, ``"leaky_relu"``, ``"gelu"``; an
            :class:`Activation`; an ``nn.Module`` such as ``nn.GELU(approximate="tanh")``; or any
            elementwise callable (``torch.sin``, ``lambda x: x * torch.sigmoid(x)``).
        **params: the activation's parameters (``negative_slope=``, ``alpha=``, ``beta=``,
            ``approximate=``, ``min_val=``/``max_val=``).

    Raises:
        InitError: an unknown name (the message lists the known ones) or an unknown parameter.

    Examples:
        >>> get_activation("gelu", approximate="tanh").name
        'gelu_tanh'
    """
    if isinstance(activation, Activation):
        if params:
            raise InitError(
                f"activation {activation.name!r} is already built; pass parameters with its name"
            )
        return activation
    if is_module(activation) and not params:
        return _from_module(activation)
    if isinstance(activation, str):
        key = _normalize(activation)
        if key == "gelu_tanh":
            params = {"approximate": "tanh", **params}
        key = _ALIASES.get(key, key)
        factory = _BUILTINS.get(key) or _USER.get(key)
        if factory is None:
            known = ", ".join(activation_names())
            raise InitError(
                f"unknown activation {activation!r}; known names: {known}. "
                "Pass a callable instead, or register one with "
                "initlab.register_activation(name, fn)"
            )
        try:
            return factory(**params)
        except (TypeError, ValueError) as e:  # a parameter of the wrong type ('abc' for alpha)
            raise InitError(
                f"activation {activation!r}: bad parameters {params} ({e}); parameters are "
                "numbers, e.g. --param alpha=1.0 (see initlab gain --list)"
            ) from None
    if callable(activation):
        if params:
            raise InitError("parameters are only accepted with an activation name, not a callable")
        return from_callable(activation)
    raise InitError(
        f"activation must be a name, an Activation or a callable, got {type(activation).__name__}"
    )


def describe_activations() -> dict[str, str]:
    """Name → parameters (with defaults) of every built-in activation.

    Examples:
        >>> describe_activations()["leaky_relu"]
        'negative_slope=0.01'
    """
    import inspect

    out = {}
    for name, factory in sorted(_BUILTINS.items()):
        sig = inspect.signature(factory)
        out[name] = ", ".join(
            f"{p.name}={p.default!r}" if isinstance(p.default, str) else f"{p.name}={p.default}"
            for p in sig.parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD
        )
    return out


__all__ = [
    "ACTIVATION_MODULES",  # noqa: F822  (module __getattr__: built with torch on first access)
    "GLU_PRODUCTS",
    "SELU_ALPHA",
    "SELU_SCALE",
    "Activation",
    "activation_names",
    "describe_activations",
    "from_callable",
    "get_activation",
    "glu_product_name",
    "register_activation",
]
