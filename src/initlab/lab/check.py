"""Check a learner's own initializer against initlab's reference, statistically.

The seeds' first coding exercise: "write your own ``xavier_normal`` and ``kaiming_normal``
without PyTorch's; verify they produce the same variance". :func:`check_initializer` runs the
learner's function on several weight shapes (Linear square, tall and wide, Conv1d, Conv2d),
and for each draw tests, with tolerances derived from the sample size n:

* the **variance** against the formula (Glorot & Bengio 2010 eq. 16; He et al. 2015 eq. 10;
  LeCun et al. 1998), Var = scale / n_mode with the fans of :func:`initlab.fans`;
* the **mean** against 0;
* the **distribution** with a Kolmogorov–Smirnov test against the reference law (normal or
  uniform with the reference variance), and a second KS test at the sample's own scale that
  tells a wrong family (normal drawn where uniform was asked) from a wrong scale;

and, when the variance is off, which classic mistake predicts the measured ratios on *every*
shape: fan_out used for fan_in, the kernel size forgotten in the fans, the std used as the
variance (or the variance as the std), the uniform bound off by √3, the ReLU gain forgotten,
values not centred (``rand`` in [0, 1)).

The function may be written three ways (``call=``, detected from its signature by default):
``fn(tensor)`` filling a torch tensor in place (torch style; it may also return the values),
``fn(shape)`` returning an array of that shape, or ``fn(fan_in, fan_out)`` returning a
fan_in × fan_out array (the seeds' ``he_init(fan_in, fan_out)`` sketch). NumPy and torch
results are both accepted. The global RNGs (torch, NumPy, ``random``) are seeded before each
call and restored afterwards, so a check is reproducible and leaves no trace.

Examples:
    >>> from initlab.lab import check_examples as ex
    >>> check_initializer(ex.xavier_normal, "xavier_normal").verdict
    'correct'
    >>> r = check_initializer(ex.kaiming_normal_fan_out, "kaiming_normal")
    >>> r.verdict, r.mistake
    ('wrong', 'fan_out_for_fan_in')
"""

from __future__ import annotations

import inspect
import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from scipy import stats

from initlab.core.fans import fans
from initlab.errors import InitError

# ------------------------------------------------------------------------- reference schemes ---


@dataclass(frozen=True)
class RefScheme:
    """A reference scheme: Var = scale / n, n = the fan named by ``mode``."""

    name: str
    scale: float
    mode: str
    distribution: str  # "normal" | "uniform"
    formula: str
    source: str


CHECK_SCHEMES: dict[str, RefScheme] = {
    s.name: s
    for s in (
        RefScheme("xavier_normal", 1.0, "fan_avg", "normal", "N(0, 2/(fan_in+fan_out))",
                  "Glorot & Bengio 2010, eq. 12/16"),
        RefScheme("xavier_uniform", 1.0, "fan_avg", "uniform",
                  "U(±√(6/(fan_in+fan_out)))", "Glorot & Bengio 2010, eq. 16"),
        RefScheme("kaiming_normal", 2.0, "fan_in", "normal", "N(0, 2/fan_in)  (ReLU)",
                  "He et al. 2015, eq. 10"),
        RefScheme("kaiming_uniform", 2.0, "fan_in", "uniform", "U(±√(6/fan_in))  (ReLU)",
                  "He et al. 2015, eq. 10"),
        RefScheme("kaiming_normal_fan_out", 2.0, "fan_out", "normal",
                  "N(0, 2/fan_out)  (ReLU, mode='fan_out')", "He et al. 2015, eq. 14"),
        RefScheme("lecun_normal", 1.0, "fan_in", "normal", "N(0, 1/fan_in)",
                  "LeCun et al. 1998, Efficient BackProp §4.6"),
        RefScheme("lecun_uniform", 1.0, "fan_in", "uniform", "U(±√(3/fan_in))",
                  "LeCun et al. 1998, Efficient BackProp §4.6"),
    )
}
_ALIASES = {
    "he_normal": "kaiming_normal",
    "he_uniform": "kaiming_uniform",
    "glorot_normal": "xavier_normal",
    "glorot_uniform": "xavier_uniform",
}

#: The shapes a check draws, torch layout (out, in, *kernel): square, wide and tall Linear
#: weights (so fan_in ≠ fan_out shows), a Conv1d and two Conv2d (so a forgotten kernel shows).
#: Every shape has ≥ 6400 values: the variance is then known to ±1.8 % (1 σ, normal).
DEFAULT_SHAPES: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("Linear 256→256", (256, 256)),
    ("Linear 64→512 (wide)", (512, 64)),
    ("Linear 1024→32 (tall)", (32, 1024)),
    ("Conv1d 32→64, k=5", (64, 32, 5)),
    ("Conv2d 32→64, 3×3", (64, 32, 3, 3)),
    ("Conv2d 8→32, 5×5", (32, 8, 5, 5)),
)

#: z of every test: a correct implementation fails one of the (3 per shape) tests with
#: probability ≈ 2·Φ(−5) ≈ 5.7e-7 each (< 2e-5 for a whole default check).
Z = 5.0
#: significance of each KS test (same order as the z-tests above).
KS_ALPHA = 1e-6
_KURTOSIS = {"normal": 3.0, "uniform": 1.8}  # E[x⁴]/Var² of the law
CALLS = ("auto", "tensor", "shape", "fans")
_FAN_NAMES = {"fan_in", "fan_out", "n_in", "n_out", "nin", "nout", "fanin", "fanout", "in_features",
              "out_features", "n_inputs", "n_outputs"}
_SHAPE_NAMES = {"shape", "size", "dims", "dim", "sizes"}


def get_check_scheme(name: str) -> RefScheme:
    """The reference scheme named ``name`` (aliases ``he_*``, ``glorot_*`` accepted).

    Raises:
        InitError: an unknown name (the message lists them).
    """
    key = _ALIASES.get(name, name)
    if key not in CHECK_SCHEMES:
        raise InitError(
            f"check: unknown --scheme {name!r}; choose from {', '.join(CHECK_SCHEMES)} "
            f"(aliases: {', '.join(_ALIASES)})"
        )
    return CHECK_SCHEMES[key]


# ---------------------------------------------------------------------------------- results ---


@dataclass(frozen=True)
class ShapeCheck:
    """The tests on one shape. ``ratio`` = measured / expected variance and ``ratio_tol`` its
    allowed deviation from 1; ``mean_tol`` = Z·s/√n; ``implied_fan`` = scale / measured
    variance (the n the learner's values correspond to); ``ks_p`` against the reference law,
    ``family_p`` against the same family at the measured scale."""

    layer: str
    shape: tuple[int, ...]
    fan_in: float
    fan_out: float
    n: int
    expected_var: float
    measured_var: float
    ratio: float
    ratio_tol: float
    mean: float
    mean_tol: float
    ks_stat: float
    ks_p: float
    family_p: float
    implied_fan: float
    var_ok: bool
    mean_ok: bool
    ks_ok: bool

    @property
    def ok(self) -> bool:
        return self.var_ok and self.mean_ok and self.ks_ok

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["shape"] = list(self.shape)
        d["ok"] = self.ok
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in d.items()}


@dataclass(frozen=True)
class CheckResult:
    """The verdict on a learner's initializer.

    ``verdict``: ``"correct"`` (every test on every shape passes) or ``"wrong"``; ``mistake``: the
    key of the classic mistake that explains every shape's variance (see :data:`MISTAKES`),
    ``"unrecognized"`` when none does, None when correct; ``explanation``: a sentence for a
    person, with the fix; ``call``: how the function was called.
    """

    function: str
    scheme: str
    formula: str
    source: str
    distribution: str
    call: str
    seed: int
    verdict: str
    mistake: str | None
    explanation: str
    shapes: tuple[ShapeCheck, ...]

    @property
    def ok(self) -> bool:
        return self.verdict == "correct"

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in (
            "function", "scheme", "formula", "source", "distribution", "call", "seed", "verdict",
            "mistake", "explanation")}
        d["ok"] = self.ok
        d["z"] = Z
        d["ks_alpha"] = KS_ALPHA
        d["shapes"] = [s.to_dict() for s in self.shapes]
        return d

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


# --------------------------------------------------------------------------- classic mistakes ---

# Each mistake predicts the variance ratio (learner / reference) on a shape from
# (scheme, fan_in, fan_out, receptive field, reference variance). A mistake explains the
# learner's values when its prediction matches the measured ratio on every shape.
_Pred = Callable[[RefScheme, float, float, int, float], float | None]


def _n(s: RefScheme, fi: float, fo: float) -> float:
    return {"fan_in": fi, "fan_out": fo, "fan_avg": (fi + fo) / 2}[s.mode]


def _swapped(s: RefScheme, fi: float, fo: float, rf: int, v: float) -> float | None:
    return None if s.mode == "fan_avg" else _n(s, fi, fo) / _n(s, fo, fi)


def _no_kernel(s: RefScheme, fi: float, fo: float, rf: int, v: float) -> float | None:
    return float(rf)  # every fan divided by the receptive field → variance × rf


MISTAKES: dict[str, tuple[str, _Pred]] = {
    "fan_out_for_fan_in": (
        "fan_out used where the formula needs fan_in (or the weight read as (in, out): torch "
        "stores Linear and Conv weights as (out, in, *kernel), so fan_in = shape[1]·Π kernel)",
        _swapped,
    ),
    "kernel_size_forgotten": (
        "the kernel size is missing from the fans: for a conv weight (out, in, kh, kw), "
        "fan_in = in·kh·kw and fan_out = out·kh·kw, not in and out",
        _no_kernel,
    ),
    "variance_as_std": (
        "the variance is used as the standard deviation (the square root is missing): "
        "draw N(0, 1)·√Var, not N(0, 1)·Var",
        lambda s, fi, fo, rf, v: v,
    ),
    "std_as_variance": (
        "the standard deviation is used as the variance (a square root taken twice): "
        "std = √Var",
        lambda s, fi, fo, rf, v: 1.0 / math.sqrt(v),
    ),
    "uniform_bound_no_sqrt3": (
        "the uniform bound is off by √3: U(−b, b) has variance b²/3, so b = √(3·Var) "
        "(√(6/(fan_in+fan_out)) for Xavier); here b = std",
        lambda s, fi, fo, rf, v: 1.0 / 3.0 if s.distribution == "uniform" else None,
    ),
    "uniform_bound_extra_sqrt3": (
        "the bound is off by √3 the other way: the uniform bound √(3·Var) is used where the "
        "std √Var belongs (or √3 applied twice)",
        lambda s, fi, fo, rf, v: 3.0,
    ),
    "relu_gain_forgotten": (
        "the ReLU gain is missing: He et al. 2015 double the variance, Var = 2/fan_in, because "
        "ReLU zeroes half the signal",
        lambda s, fi, fo, rf, v: 0.5 if s.scale == 2.0 else None,
    ),
    "extra_gain": (
        "a gain of √2 is applied that this scheme does not have (He's ReLU gain on a "
        "Xavier/LeCun scheme)",
        lambda s, fi, fo, rf, v: 2.0 if s.scale == 1.0 else None,
    ),
}


# -------------------------------------------------------------------------------- calling it ---


def _detect_call(fn: Callable[..., Any]) -> str:
    try:
        params = [
            p for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return "tensor"
    required = [p for p in params if p.default is p.empty]
    names = {p.name.lower() for p in params[:2]}
    if len(required) >= 2 or names & _FAN_NAMES:
        return "fans"
    if params and params[0].name.lower() in _SHAPE_NAMES:
        return "shape"
    return "tensor"


def _rng_state() -> tuple[Any, Any, Any]:
    return torch.get_rng_state(), np.random.get_state(), random.getstate()


def _restore(st: tuple[Any, Any, Any]) -> None:
    torch.set_rng_state(st[0])
    np.random.set_state(st[1])
    random.setstate(st[2])


def _as_array(values: Any, where: str) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().to("cpu", torch.float64).numpy().ravel()
    try:
        return np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InitError(
            f"check: {where} returned a {type(values).__name__}, not an array or tensor of numbers"
        ) from None


def _draw(fn: Callable[..., Any], call: str, shape: tuple[int, ...], fi: float, fo: float,
          seed: int, name: str) -> np.ndarray:
    state = _rng_state()
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    where = f"{name} on {(call == 'fans' and f'fan_in={fi:g}, fan_out={fo:g}') or shape}"
    try:
        if call == "tensor":
            t = torch.full(shape, float("nan"))
            out = fn(t)
            values = t if out is None else out
        elif call == "shape":
            values = fn(shape)
        else:
            values = fn(int(fi), int(fo))
    except InitError:
        raise
    except Exception as e:
        how = {"tensor": f"{name}(tensor)", "shape": f"{name}(shape)",
               "fans": f"{name}(fan_in, fan_out)"}[call]
        raise InitError(
            f"check: {where} raised {type(e).__name__}: {e}. It was called as {how}; if it takes "
            f"something else, pass --call ({', '.join(CALLS[1:])})"
        ) from None
    finally:
        _restore(state)
    x = _as_array(values, where)
    want = round(fi * fo) if call == "fans" else math.prod(shape)
    if x.size != want:
        raise InitError(
            f"check: {where} gave {x.size} values, expected {want} "
            f"({'fan_in × fan_out' if call == 'fans' else 'one per element of the shape'})"
        )
    if not np.all(np.isfinite(x)):
        bad = int((~np.isfinite(x)).sum())
        raise InitError(
            f"check: {where} left {bad} of {x.size} values non-finite (NaN/inf); "
            "an in-place function must fill every element of the tensor it is given"
        )
    return x


# ------------------------------------------------------------------------------ statistics ---


def _test_shape(layer: str, shape: tuple[int, ...], fi: float, fo: float, x: np.ndarray,
                s: RefScheme) -> ShapeCheck:
    n = x.size
    v = s.scale / _n(s, fi, fo)
    mean = float(x.mean())
    var = float(x.var(ddof=1))
    # Var[s²] ≈ (μ₄ − σ⁴)/n = σ⁴(κ − 1)/n for i.i.d. draws (κ the kurtosis of the law): the
    # ratio s²/Var has standard error √((κ−1)/n); Z of those is the tolerance.
    ratio_tol = Z * math.sqrt((_KURTOSIS[s.distribution] - 1.0) / n)
    # the standard error of the mean is σ/√n, σ the sample's own (a wrong scale is the
    # variance test's finding, not the mean's)
    mean_tol = Z * math.sqrt(max(var, 0.0) / n)
    if s.distribution == "normal":
        ref = stats.norm(0.0, math.sqrt(v))
        fam = stats.norm(mean, math.sqrt(max(var, 1e-300)))
    else:
        b = math.sqrt(3.0 * v)
        ref = stats.uniform(-b, 2 * b)
        bb = math.sqrt(3.0 * max(var, 1e-300))
        fam = stats.uniform(mean - bb, 2 * bb)
    ks = stats.kstest(x, ref.cdf)
    fam_p = float(stats.kstest(x, fam.cdf).pvalue) if var > 0 else 0.0
    ratio = var / v
    return ShapeCheck(
        layer=layer, shape=shape, fan_in=float(fi), fan_out=float(fo), n=n, expected_var=v,
        measured_var=var, ratio=ratio, ratio_tol=ratio_tol, mean=mean, mean_tol=mean_tol,
        ks_stat=float(ks.statistic), ks_p=float(ks.pvalue), family_p=fam_p,
        implied_fan=s.scale / var if var > 0 else math.inf,
        var_ok=abs(ratio - 1.0) <= ratio_tol, mean_ok=abs(mean) <= mean_tol,
        ks_ok=float(ks.pvalue) >= KS_ALPHA,
    )


def _rf(shape: tuple[int, ...]) -> int:
    return math.prod(shape[2:]) if len(shape) > 2 else 1


def _diagnose(s: RefScheme, checks: Sequence[ShapeCheck], call: str) -> tuple[str | None, str]:
    if all(c.ok for c in checks):
        return None, (
            f"matches {s.name} on every shape: variance {s.formula}, mean 0 and the "
            f"{s.distribution} law (KS), within {Z:g} standard errors"
        )
    if not any(c.mean_ok for c in checks):
        return "not_centred", (
            "the values are not centred on 0: probably rand() in [0, 1) where 2·rand() − 1 in "
            "(−1, 1) is needed (U(0, b) instead of U(−b, b)), or an offset added"
        )
    for key, (text, pred) in MISTAKES.items():
        ok = True
        for c in checks:
            r = pred(s, c.fan_in, c.fan_out, 1 if call == "fans" else _rf(c.shape), c.expected_var)
            if r is None:
                ok = False
                break
            # same tolerance as the variance test, on the predicted ratio
            if abs(c.ratio / r - 1.0) > c.ratio_tol:
                ok = False
                break
        if ok and not all(abs(c.ratio - 1.0) <= c.ratio_tol for c in checks):
            return key, text
    if all(c.var_ok and c.mean_ok for c in checks):
        other = "uniform" if s.distribution == "normal" else "normal"
        return "wrong_distribution", (
            f"the variance and mean are right but the values do not follow the {s.distribution} "
            f"law (KS test): {s.name} draws from a {s.distribution} distribution, yours looks "
            f"{'like a ' + other + ' one' if any(c.family_p < KS_ALPHA for c in checks) else 'off'}"
        )
    worst = max(checks, key=lambda c: abs(math.log(max(c.ratio, 1e-300))))
    return "unrecognized", (
        f"the variance is off by a factor that no classic mistake explains (worst: "
        f"{worst.layer}, measured/expected = {worst.ratio:.3g}, your values match n = "
        f"{worst.implied_fan:.4g} where {s.mode} = {_n(s, worst.fan_in, worst.fan_out):g}); "
        f"compare your formula with {s.formula}"
    )


def check_initializer(
    fn: Callable[..., Any],
    scheme: str = "xavier_normal",
    *,
    call: str = "auto",
    shapes: Sequence[tuple[str, tuple[int, ...]]] | None = None,
    seed: int = 0,
    name: str | None = None,
) -> CheckResult:
    """Test a learner's initializer against initlab's reference ``scheme`` on many shapes.

    Args:
        fn: the learner's function (see the module docstring for the three ways to write it).
        scheme: the reference: ``xavier_normal``, ``xavier_uniform``, ``kaiming_normal``,
            ``kaiming_uniform``, ``kaiming_normal_fan_out``, ``lecun_normal``, ``lecun_uniform``
            (``he_*``/``glorot_*`` aliases; the Kaiming ones for ReLU, gain √2).
        call: ``"tensor"``, ``"shape"``, ``"fans"`` or ``"auto"`` (from the signature: two
            required arguments → fans, a first argument named ``shape`` → shape, else tensor).
        shapes: (label, torch-layout shape) pairs; :data:`DEFAULT_SHAPES` by default. With
            ``call="fans"`` each shape gives its (fan_in, fan_out).
        seed: seeds the global RNGs before each call (shape i uses ``seed + i``).
        name: how to name the function in messages (default: its ``__name__``).

    Returns:
        a :class:`CheckResult` with the verdict, the likely mistake and the evidence per shape.

    Raises:
        InitError: an unknown scheme or call; the function raising, returning the wrong number
            of values, or leaving NaN/inf (the message says which shape and how it was called).

    Examples:
        >>> from initlab.lab import check_examples as ex
        >>> r = check_initializer(ex.kaiming_normal_no_kernel, "kaiming_normal")
        >>> r.mistake, [c.var_ok for c in r.shapes][:3]
        ('kernel_size_forgotten', [True, True, True])
    """
    s = get_check_scheme(scheme)
    if not callable(fn):
        raise InitError(f"check: the function to check must be callable, got {type(fn).__name__}")
    if call not in CALLS:
        raise InitError(f"check: --call must be one of {', '.join(CALLS)}, got {call!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InitError(f"check: seed must be a non-negative int, got {seed!r}")
    label = name or getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    how = _detect_call(fn) if call == "auto" else call
    todo = tuple(shapes) if shapes is not None else DEFAULT_SHAPES
    if not todo:
        raise InitError("check: shapes is empty; give at least one (label, shape) pair")
    checks = []
    for i, (layer, shape) in enumerate(todo):
        shape = tuple(int(d) for d in shape)
        if len(shape) < 2 or any(d < 1 for d in shape):
            raise InitError(f"check: shape {shape} of {layer!r} needs ≥ 2 positive dimensions")
        f = fans(torch.empty(shape, device="meta"))
        x = _draw(fn, how, shape, f.fan_in, f.fan_out, seed + i, label)
        checks.append(_test_shape(layer, shape, f.fan_in, f.fan_out, x, s))
    mistake, text = _diagnose(s, checks, how)
    return CheckResult(
        function=label, scheme=s.name, formula=s.formula, source=s.source,
        distribution=s.distribution, call=how, seed=seed,
        verdict="correct" if mistake is None else "wrong", mistake=mistake, explanation=text,
        shapes=tuple(checks),
    )


__all__ = [
    "CALLS",
    "CHECK_SCHEMES",
    "DEFAULT_SHAPES",
    "KS_ALPHA",
    "MISTAKES",
    "CheckResult",
    "RefScheme",
    "ShapeCheck",
    "Z",
    "check_initializer",
    "get_check_scheme",
]
