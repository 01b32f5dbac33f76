"""What the explorer's interactive views show, computed by the library (the page only draws it).

* :func:`signal_propagation` — views 1 and 3: a real deep MLP (``depth`` hidden layers of
  ``width`` units and a head) started with any named start, biases N(0, σ_b²), fed
  N(0, input_scale²) inputs; :func:`initlab.doctor` measures every layer (activation mean, std,
  max|x|, gradient rms, status, findings) and the mean-field recursion (Poole et al. 2016;
  Schoenholz et al. 2017) predicts the pre-activation rms and the gradient rms from the
  weights' realized variances, so the theory curve is the width → ∞ limit of *this* network.
* :func:`weight_distribution` — view 2: one real draw of a (fan_out, fan_in) weight, its
  histogram, the theoretical density and the scheme's numbers (:func:`initlab.scheme_scales`).
* :func:`phase_point` — view 4: (σ_w², σ_b²) → q*, χ₁, ξ_c, the phase and the depth profile
  (theory and a finite-width simulation); :func:`phase_map` is the clickable diagram.

Results are frozen dataclasses with ``to_dict()``.

Examples:
    >>> sp = signal_propagation("relu", "xavier", width=64, depth=6, batch=32)
    >>> 0.3 < sp.act_factor < 0.7   # Xavier on ReLU halves the variance per layer
    True
    >>> wd = weight_distribution("xavier", 1024, 512, "uniform")
    >>> round(wd.bound, 4)           # the seeds' exercise: ±√(6/1536)
    0.0625
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from initlab.core.activations import Activation, get_activation
from initlab.core.scales import scheme_scales
from initlab.core.schemes import variance_scaling_
from initlab.errors import InitError
from initlab.theory import kernels

#: Distributions of the weight view.
DISTRIBUTIONS = ("normal", "uniform", "truncated_normal")
#: Most values drawn for the histogram (i.i.d. entries: a subset of rows is the same law).
MAX_DRAW = 1_000_000


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, list | tuple):
        return [_finite(x) for x in v]
    return v


def _dict(obj: Any) -> dict[str, Any]:
    return {k: _finite(v) for k, v in obj.__dict__.items() if not k.startswith("_")}


def _check_int(where: str, name: str, v: Any, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or not lo <= v <= hi:
        raise InitError(f"{where}: {name} must be an integer in [{lo}, {hi}], got {v!r}")
    return int(v)


def _check_float(where: str, name: str, v: Any, lo: float, hi: float) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InitError(f"{where}: {name} must be a number in [{lo}, {hi}], got {v!r}") from None
    if not (math.isfinite(f) and lo <= f <= hi):
        raise InitError(f"{where}: {name} must be a number in [{lo}, {hi}], got {v!r}")
    return f


# ----------------------------------------------------------------- views 1 and 3: the signal ---


@dataclass(frozen=True)
class SignalRow:
    """One row of the signal-propagation table: the texts' columns plus the gradient rms."""

    layer: str
    mean: float
    std: float
    max_abs: float
    status: str
    grad_rms: float | None

    def to_dict(self) -> dict[str, Any]:
        return _dict(self)


@dataclass(frozen=True)
class SignalPropagation:
    """A deep MLP's start, measured by the doctor and predicted by mean-field theory.

    Per hidden layer l = 1..depth: ``pre_rms`` (rms of h^l = W^l x^{l−1} + b^l, the measured
    √q^l), ``theory_pre_rms`` (√q^l of the recursion q^1 = σ_w,1²·E[x²] + σ_b²,
    q^l = σ_w,l² E[φ(√q^{l−1} z)²] + σ_b²), ``act_std`` (std of φ(h^l)), ``grad_rms`` (rms of
    ∂L/∂h^l) and ``theory_grad_rms`` (g_l² = E[φ'(√q^l z)²]·σ_w,l+1²·g_{l+1}², the head's
    output gradient rms 1: the doctor's random projection), ``sigma_w2`` (fan_in·mean W² of
    each layer, the realized σ_w²). ``act_factor``/``grad_factor``: measured variance change per
    layer (geometric mean, forward and backward; 1 = preserved), ``theory_factor`` the same from
    the recursion. ``rows``: the table (Input, Hidden 1..depth) with the doctor's statuses;
    ``findings``: the doctor's advice (summary, cause, fix).
    """

    activation: str
    start: str
    start_label: str
    width: int
    depth: int
    sigma_b: float
    input_scale: float
    batch: int
    seed: int
    layers: tuple[int, ...]
    pre_rms: tuple[float, ...]
    theory_pre_rms: tuple[float, ...]
    act_std: tuple[float, ...]
    grad_rms: tuple[float, ...]
    theory_grad_rms: tuple[float, ...]
    sigma_w2: tuple[float, ...]
    act_factor: float
    grad_factor: float
    theory_factor: float
    theory_grad_factor: float
    verdict: str
    rows: tuple[SignalRow, ...]
    findings: tuple[dict[str, str], ...]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = _dict(self)
        d["rows"] = [r.to_dict() for r in self.rows]
        d["findings"] = [dict(f) for f in self.findings]
        d["layers"] = list(self.layers)
        d["notes"] = list(self.notes)
        return d


def _factor(v: list[float]) -> float:
    """Geometric-mean change per layer of a positive sequence of variances."""
    if len(v) < 2 or not all(math.isfinite(x) and x > 0 for x in (v[0], v[-1])):
        return math.nan
    return math.exp((math.log(v[-1]) - math.log(v[0])) / (len(v) - 1))


_PLANS: dict[tuple[Any, ...], Any] = {}
_PLANS_LOCK = threading.Lock()


def _start(net: nn.Module, st: Any, x: torch.Tensor, seed: int, key: tuple[Any, ...]) -> None:
    """``st.apply(net, x, seed=seed)``; for a policy start the plan (which depends on the
    architecture, not on the weights) is built once per architecture and re-applied:
    ``initlab.init`` = ``plan`` + ``apply_plan``, and tracing is most of a plan's cost."""
    if st.kind != "policy":
        st.apply(net, x, seed=seed)
        return
    from initlab.model.apply import apply_plan
    from initlab.model.plan import build_plan
    from initlab.model.policies import make_policy

    with _PLANS_LOCK:
        plan = _PLANS.get(key)
    if plan is None:
        plan = build_plan(net, x, make_policy(st.name.split("(")[0], **dict(st.options)))
        with _PLANS_LOCK:
            if len(_PLANS) > 64:
                _PLANS.clear()
            _PLANS[key] = plan
    apply_plan(net, plan, seed=seed)


def _mlp(width: int, depth: int, activation: str) -> nn.Module:
    from initlab.lab.zoo import deep_mlp

    return deep_mlp(depth, width, width, width, activation)


def signal_propagation(
    activation: str = "relu",
    start: str = "he",
    width: int = 256,
    depth: int = 20,
    sigma_b: float = 0.0,
    input_scale: float = 1.0,
    batch: int = 128,
    seed: int = 0,
) -> SignalPropagation:
    """Start a deep MLP with ``start``, measure it with the doctor, predict it with mean field.

    Args:
        activation: the activation after every hidden layer (any registered name).
        start: a name from the lab's registry of starts (``zeros``, ``small``, ``normal``,
            ``xavier``, ``he``, ``lecun``, ``orthogonal``, ``critical``...).
        width, depth: units per hidden layer (2..2048) and hidden layers (1..200).
        sigma_b: bias std; every bias is redrawn N(0, σ_b²) after the start (0: zero biases).
        input_scale: std of the N(0, input_scale²) inputs.
        batch: inputs per forward pass (2..4096).
        seed: seeds the start, the biases, the input and the doctor.

    Raises:
        InitError: an unknown activation or start, a size out of range.

    Examples:
        >>> sp = signal_propagation("tanh", "small", width=64, depth=8, batch=32)
        >>> sp.rows[-1].status
        'Vanishing'
    """
    from initlab.lab.starts import get_start
    from initlab.probe.doctor import doctor

    where = "signal_propagation"
    width = _check_int(where, "width", width, 2, 2048)
    depth = _check_int(where, "depth", depth, 1, 200)
    batch = _check_int(where, "batch", batch, 2, 4096)
    seed = _check_int(where, "seed", seed, 0, 2**31 - 1)
    sigma_b = _check_float(where, "sigma_b", sigma_b, 0.0, 10.0)
    input_scale = _check_float(where, "input_scale", input_scale, 1e-6, 1e3)
    act = get_activation(activation)
    if act.glu:
        raise InitError(f"{where}: {act.name!r} is a gated unit; pick an elementwise activation")
    st = get_start(start)
    # float64: N(0, 1) on ReLU grows ×(width/2) per layer; keep numbers, not inf, for the plot
    net = _mlp(width, depth, act.name).to(torch.float64)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, width, generator=g, dtype=torch.float64) * input_scale
    _start(net, st, x, seed, (act.name, width, depth, st.name))
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Linear) and m.bias is not None:
                if sigma_b > 0:
                    m.bias.normal_(0.0, sigma_b, generator=g)
                else:
                    m.bias.zero_()
    dx = doctor(net, x, seed=seed, samples=False)
    lin = [r for r in dx.layers if r.kind == "Linear"]
    acts = [r for r in dx.layers if r.role == "activation"]
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    w2 = [float(m.weight.detach().pow(2).mean()) * m.in_features for m in linears]
    b2 = [float(m.bias.detach().pow(2).mean()) if m.bias is not None else 0.0 for m in linears]
    # mean-field recursion with the realized σ_w², σ_b² of each layer
    slope = kernels.leaky_slope(act)  # ReLU family: M(q) = q(1 + a²)/2 in closed form

    def m(v: float) -> float:
        if not math.isfinite(v):
            return math.inf
        return v * (1 + slope * slope) / 2 if slope is not None else float(act.second_moment(v))

    q = [w2[0] * float(x.pow(2).mean()) + b2[0]]
    for k in range(1, depth):
        q.append(w2[k] * m(q[-1]) + b2[k])
    qa = np.asarray(q)
    dq = np.full(depth, math.nan)
    fin = np.isfinite(qa)
    if fin.any():
        dq[fin] = np.atleast_1d(kernels.derivative_moment(act, qa[fin]))
    g2 = [0.0] * depth
    nxt = 1.0 * w2[depth]  # head: ∂L/∂(head out) has rms 1; back through W_head: × σ_w,head²
    for k in range(depth - 1, -1, -1):
        g2[k] = float(dq[k]) * nxt
        nxt = g2[k] * w2[k]
    pre = [r.rms for r in lin[:depth]]
    grad = [r.grad_rms if r.grad_rms is not None else math.nan for r in lin[:depth]]
    rows = [SignalRow("Input", float(x.mean()), float(x.std()), float(x.abs().max()), "Healthy",
                      dx.input.grad_rms if dx.input is not None else None)]
    for i, r in enumerate(acts[:depth]):
        rows.append(SignalRow(f"Hidden {i + 1}", r.mean, r.std, r.max_abs, r.status.capitalize(),
                              r.grad_rms))
    notes = []
    if not all(map(math.isfinite, q)):
        notes.append("the mean-field variance overflows: the signal explodes faster than floats")
    return SignalPropagation(
        activation=act.name, start=st.name, start_label=st.label, width=width, depth=depth,
        sigma_b=sigma_b, input_scale=input_scale, batch=batch, seed=seed,
        layers=tuple(range(1, depth + 1)),
        pre_rms=tuple(pre), theory_pre_rms=tuple(math.sqrt(v) for v in q),
        act_std=tuple(r.std for r in acts[:depth]),
        grad_rms=tuple(grad), theory_grad_rms=tuple(math.sqrt(v) for v in g2),
        sigma_w2=tuple(w2[:depth]),
        act_factor=_factor([v * v for v in pre]),
        grad_factor=_factor([v * v for v in reversed(grad)]),
        theory_factor=_factor(q), theory_grad_factor=_factor(list(reversed(g2))),
        verdict=dx.verdict.capitalize(), rows=tuple(rows),
        findings=tuple({"kind": f.kind, "summary": f.summary, "cause": f.cause, "fix": f.fix}
                       for f in dx.findings),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------- view 2: the weights ---


@dataclass(frozen=True)
class WeightDistribution:
    """One real draw of a ``(fan_out, fan_in)`` weight and what the formula says.

    ``variance``, ``std``: the scheme's; ``bound``: the U(−b, b) bound with that variance
    (b = √3·std); ``truncated_sigma``: σ of the ±2σ truncated normal with that std; ``lo``/``hi``:
    the support of the chosen law (±∞ for the normal). ``edges``/``counts``/``density``: the
    histogram (density-normalized, ``centers`` of the bins) of ``n_drawn`` values;
    ``curve_x``/``curve_y``: the theoretical density; ``sample_*``: the draw's statistics;
    ``table``: every scheme's numbers for these fans.
    """

    scheme: str
    formula: str
    source: str
    fan_in: int
    fan_out: int
    distribution: str
    activation: str
    variance: float
    std: float
    bound: float
    truncated_sigma: float
    lo: float
    hi: float
    n_drawn: int
    sample_mean: float
    sample_std: float
    sample_min: float
    sample_max: float
    edges: tuple[float, ...]
    centers: tuple[float, ...]
    counts: tuple[float, ...]
    curve_x: tuple[float, ...]
    curve_y: tuple[float, ...]
    table: tuple[dict[str, Any], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        d = _dict(self)
        d["table"] = [dict(r) for r in self.table]
        return d


def weight_schemes() -> tuple[str, ...]:
    """The scheme names of :func:`weight_distribution` (those of :func:`initlab.scheme_scales`)."""
    return tuple(r.scheme for r in scheme_scales(2, 2))


def weight_distribution(
    scheme: str = "xavier",
    fan_in: int = 1024,
    fan_out: int = 512,
    distribution: str = "uniform",
    activation: str = "relu",
    bins: int = 60,
    seed: int = 0,
) -> WeightDistribution:
    """Draw a real ``(fan_out, fan_in)`` weight with ``scheme`` and histogram it.

    Args:
        scheme: ``small``, ``lecun``, ``xavier``, ``he``, ``he_fan_out``, ``torch_default``.
        fan_in, fan_out: the layer's fans (1..65536).
        distribution: ``normal``, ``uniform`` or ``truncated_normal`` (±2σ, std corrected).
        activation: the activation after the layer (the He gain).
        bins: histogram bins (5..200). seed: the draw's seed.

    Raises:
        InitError: an unknown scheme or distribution, a fan or bins out of range.

    Examples:
        >>> wd = weight_distribution("he", 1024, 512, "uniform")
        >>> round(wd.bound, 4), abs(wd.sample_max) <= wd.bound
        (0.0765, True)
    """
    where = "weight_distribution"
    fan_in = _check_int(where, "fan_in", fan_in, 1, 65536)
    fan_out = _check_int(where, "fan_out", fan_out, 1, 65536)
    bins = _check_int(where, "bins", bins, 5, 200)
    seed = _check_int(where, "seed", seed, 0, 2**31 - 1)
    if distribution not in DISTRIBUTIONS:
        raise InitError(
            f"{where}: distribution must be one of {', '.join(DISTRIBUTIONS)}, got {distribution!r}"
        )
    rows = scheme_scales(fan_in, fan_out, activation)
    by = {r.scheme: r for r in rows}
    if scheme not in by:
        raise InitError(f"{where}: unknown scheme {scheme!r}; choose from {', '.join(by)}")
    r = by[scheme]
    n_rows = max(1, min(fan_out, MAX_DRAW // fan_in))
    w = torch.empty(n_rows, fan_in, dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    # the one mechanism: variance r.variance = scale / fan_in
    variance_scaling_(w, r.variance * fan_in, "fan_in", distribution,  # type: ignore[arg-type]
                      fans=(fan_in, fan_out), generator=g)
    v = w.numpy().ravel()
    if distribution == "normal":
        lo, hi = -math.inf, math.inf
        span = 4.5 * r.std
    elif distribution == "uniform":
        lo, hi = -r.uniform_bound, r.uniform_bound
        span = 1.15 * r.uniform_bound
    else:
        lo, hi = -2 * r.truncated_sigma, 2 * r.truncated_sigma
        span = 1.15 * hi
    counts, edges = np.histogram(v, bins=bins, range=(-span, span), density=True)
    xs = np.linspace(-span, span, 241)
    if distribution == "normal":
        ys = np.exp(-0.5 * (xs / r.std) ** 2) / (r.std * math.sqrt(2 * math.pi))
    elif distribution == "uniform":
        ys = np.where(np.abs(xs) <= hi, 1.0 / (2 * hi), 0.0)
    else:
        s = r.truncated_sigma
        mass = math.erf(2 / math.sqrt(2))  # P(|z| ≤ 2)
        ys = np.where(np.abs(xs) <= hi,
                      np.exp(-0.5 * (xs / s) ** 2) / (s * math.sqrt(2 * math.pi) * mass), 0.0)
    return WeightDistribution(
        scheme=r.scheme, formula=r.formula, source=r.source, fan_in=fan_in, fan_out=fan_out,
        distribution=distribution, activation=get_activation(activation).name,
        variance=r.variance, std=r.std, bound=r.uniform_bound, truncated_sigma=r.truncated_sigma,
        lo=lo, hi=hi, n_drawn=int(v.size), sample_mean=float(v.mean()), sample_std=float(v.std()),
        sample_min=float(v.min()), sample_max=float(v.max()),
        edges=tuple(edges.tolist()), centers=tuple(((edges[1:] + edges[:-1]) / 2).tolist()),
        counts=tuple(counts.tolist()),
        curve_x=tuple(xs.tolist()), curve_y=tuple(ys.tolist()),
        table=tuple(x.to_dict() for x in rows),
    )


# -------------------------------------------------------------------- view 4: phase diagram ---


@dataclass(frozen=True)
class PhasePoint:
    """Mean field at one (σ_w², σ_b²) and its depth profile.

    ``q``/``c``: theory q^l, c^l for l = 0..depth (two inputs of variance 1 and correlation
    ``c0``); ``sim_q``/``sim_c``: the same measured on real random networks of width
    ``width`` (mean of 4 seeds, :func:`initlab.theory.simulate`). ``q_star`` etc. are None
    where the length map has no fixed point (``phase`` = ``"no fixed point"``, with ``note``).
    """

    activation: str
    sigma_w2: float
    sigma_b2: float
    phase: str
    q_star: float | None
    c_star: float | None
    chi1: float | None
    xi_q: float | None
    xi_c: float | None
    trainable_depth: float | None
    depth: int
    width: int
    c0: float
    q: tuple[float, ...]
    c: tuple[float, ...]
    sim_q: tuple[float, ...]
    sim_c: tuple[float, ...]
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return _dict(self)


def phase_point(
    activation: str = "tanh",
    sigma_w2: float = 1.5,
    sigma_b2: float = 0.05,
    depth: int = 50,
    width: int = 256,
    c0: float = 0.5,
    seed: int = 0,
) -> PhasePoint:
    """q*, χ₁, ξ_c and the phase at (σ_w², σ_b²), with the depth profile (theory + simulation).

    Interactive speed (a few ms; the explorer's view 4): the fixed point comes from
    :func:`initlab.theory.phase_diagram` on this one point (the activation's quadrature tables
    are cached across calls; agreement with :class:`~initlab.theory.MeanField` ≤ 1e-8), the
    theory profile from :func:`initlab.theory.series_trajectory` (≤ 1e-8 from
    ``MeanField.trajectory``) and the measured one from :func:`initlab.theory.simulate` with
    ``method="conditional"`` (the same random networks' law, O(width) per layer).

    Raises:
        InitError: an unknown activation, a variance or size out of range.

    Examples:
        >>> p = phase_point("tanh", 2.5, 0.05, depth=10, width=64)
        >>> p.phase, round(p.xi_c, 3)
        ('chaotic', 11.796)
    """
    from initlab.theory import MeanField, phase_diagram, series_trajectory, simulate
    from initlab.theory.meanfield import no_fixed_point_message
    from initlab.theory.phase import length_chain

    where = "phase_point"
    sigma_w2 = _check_float(where, "sigma_w2", sigma_w2, 0.0, 100.0)
    sigma_b2 = _check_float(where, "sigma_b2", sigma_b2, 0.0, 10.0)
    depth = _check_int(where, "depth", depth, 1, 500)
    width = _check_int(where, "width", width, 2, 2048)
    c0 = _check_float(where, "c0", c0, -1.0, 1.0)
    act = get_activation(activation)
    note = ""
    d: dict[str, Any] = {}
    pd = phase_diagram(act, [sigma_w2], [sigma_b2])
    if int(pd.phase[0, 0]) >= 0:
        d = {k: _finite(float(getattr(pd, k)[0, 0])) for k in
             ("q_star", "c_star", "chi1", "xi_q", "xi_c", "trainable_depth")}
        phase = str(pd.phase_names[0, 0])
    elif kernels.leaky_slope(act) is None and _diverges(act, sigma_w2, sigma_b2):
        phase = "no fixed point"
        note = no_fixed_point_message(act, sigma_w2, sigma_b2, "MeanField")
    else:  # q* above the tables' 1e4: MeanField looks up to 1e8, or says why there is none
        try:
            d = MeanField(act, sigma_w2, sigma_b2).to_dict()
            phase = d["phase"]
        except InitError as e:
            phase = "no fixed point"
            note = str(e)
    if d:
        q, c = series_trajectory(act, sigma_w2, sigma_b2, depth, q0=1.0, c0=c0)
    else:  # q^l grows without bound: its curve, and no correlation map to speak of
        q = length_chain(act, sigma_w2, sigma_b2, depth, q0=1.0)
        c = np.full(depth + 1, np.nan)
        c[0] = c0
    with np.errstate(all="ignore"):
        sim = simulate(act, sigma_w2, sigma_b2, width=width, depth=depth, seed=seed, c0=c0,
                       n_seeds=4, method="conditional")

    def lst(a: Any) -> tuple[float, ...]:
        return tuple(float(v) for v in np.asarray(a, dtype=np.float64))

    return PhasePoint(
        activation=act.name, sigma_w2=sigma_w2, sigma_b2=sigma_b2, phase=phase,
        q_star=d.get("q_star"), c_star=d.get("c_star"), chi1=d.get("chi1"), xi_q=d.get("xi_q"),
        xi_c=d.get("xi_c"), trainable_depth=d.get("trainable_depth"), depth=depth, width=width,
        c0=c0, q=lst(q), c=lst(c), sim_q=lst(sim.q_mean), sim_c=lst(sim.c_mean), note=note,
    )


def _diverges(act: Activation, sigma_w2: float, sigma_b2: float) -> bool:
    """Whether the length map from q = 1e4 keeps growing up to ``Q_MAX`` (no fixed point where
    :class:`~initlab.theory.MeanField` looks): g(q) = σ_w² M(q) + σ_b² − q > 0 on a geometric
    grid of ratio 1.5 (MeanField's own scan), in one vectorized quadrature."""
    from initlab.theory.meanfield import Q_MAX

    q = np.geomspace(1e4, Q_MAX, 24)
    g = sigma_w2 * np.asarray(act.second_moment(q), dtype=np.float64) + sigma_b2 - q
    return bool(np.all(np.isfinite(g) & (g > 0)))


def phase_map(
    activation: str = "tanh", n_w: int = 80, n_b: int = 50, correlation: bool = True
) -> dict[str, Any]:
    """The phase diagram on σ_w² ∈ [0.5, 4] × σ_b² ∈ [0, 0.3] as a dict for the page
    (:func:`initlab.theory.phase_diagram`: χ₁, ξ_c, phase codes, the critical line;
    ``correlation=False``: without c*, χ_c, ξ_c — what the page draws, faster).

    Examples:
        >>> d = phase_map("tanh", 10, 5)
        >>> len(d["chi1"]), len(d["chi1"][0])
        (5, 10)
    """
    from initlab.theory import phase_diagram

    n_w = _check_int("phase_map", "n_w", n_w, 2, 200)
    n_b = _check_int("phase_map", "n_b", n_b, 2, 200)
    pd = phase_diagram(activation, np.linspace(0.5, 4.0, n_w), np.linspace(0.0, 0.3, n_b),
                       correlation=correlation)
    return pd.to_dict()


__all__ = [
    "DISTRIBUTIONS",
    "PhasePoint",
    "SignalPropagation",
    "SignalRow",
    "WeightDistribution",
    "phase_map",
    "phase_point",
    "signal_propagation",
    "weight_distribution",
    "weight_schemes",
]
