"""Policies: for each parameter, which scheme — decided from what discovery found.

Every policy is a function ``(ParamContext, ModelContext) -> (Scheme, reason)``; the reason is
the sentence the plan prints. Norm scales are 1 and norm shifts 0, biases 0, and Fixup-style
scalar biases/multipliers 0/1 in every policy except ``"torch"``.

Policies and their sources:

- ``auto``: the guideline table of the seed text (He et al. 2015; Glorot & Bengio 2010;
  Klambauer et al. 2017; Saxe et al. 2014; Radford et al. 2019). He with the measured gain
  1/√E[φ(z)²] for the ReLU family and GELU/SiLU/..., Xavier for tanh/sigmoid/linear, LeCun for
  SELU, orthogonal recurrent weights, N(0, 1) embeddings, residual branch ends × 1/√N (N residual
  branches), a small N(0, 0.01²) output layer (0.02 when tied to the embedding), GLU gates LeCun
  and GLU value halves the gain of the product. LSTM forget-gate bias 1 (Gers et al. 2000;
  Jozefowicz et al. 2015, sec. 3: "add a bias of 1 to the LSTM's forget gate"), written into
  ``bias_ih`` (``bias_hh`` stays 0: torch adds the two); option ``lstm_forget_bias``.
- ``torch``: each module's ``reset_parameters`` (torch.nn): what the module draws when built.
- ``xavier``: Glorot & Bengio 2010, eq. 16: U(±√(6/(fan_in+fan_out))).
- ``he``: He et al. 2015, eq. 10: N(0, 2/fan_in) (leaky ReLU: 2/((1+a²)·fan_in)).
- ``lecun``: LeCun et al. 1998: N(0, 1/fan_in).
- ``orthogonal``: Saxe et al. 2014: orthogonal × the activation's variance gain.
- ``gpt2``: nanoGPT ``model.py`` (Radford et al. 2019, sec. 2.3): Linear and Embedding
  N(0, 0.02²), biases 0, every ``c_proj.weight`` N(0, (0.02/√(2·n_layer))²); others as built.
- ``fixup``: Zhang et al. 2019, sec. 3: classifier and last layer of each residual branch 0,
  other branch layers He × L^(−1/(2m−2)), scalar multipliers 1, scalar biases 0.
- ``zero_residual``: Goyal et al. 2017 (zero-γ): ``auto``, then the last norm γ of each residual
  branch 0 (its last layer 0 when no norm follows it).
- ``delta_orthogonal``: Xiao et al. 2018: convs delta-orthogonal × gain, Linear orthogonal.
- ``critical``: Poole et al. 2016; Schoenholz et al. 2017: weights N(0, σ_w²/fan_in), biases
  N(0, σ_b²), (σ_w², σ_b²) on the critical line χ₁ = 1 of the layer's activation, chosen by
  :func:`initlab.theory.critical_init`: options ``sigma_b2`` or ``q_star`` (Xiao et al. 2018);
  neither: σ_b = 0 where that point is stable (tanh σ_w² = 1, ReLU 2), else the smallest
  q* ≥ 1 whose fixed point attracts (length-map slope ≤ 0.99: GELU q* ≈ 5.1, SiLU ≈ 25).

A policy is a name (``"critical"``) or a :class:`Policy` value carrying options
(``initlab.policies.critical(sigma_b2=0.05)``, or the string ``"critical(sigma_b2=0.05)"``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from initlab.core.activations import get_activation
from initlab.core.fans import Fans
from initlab.errors import InitError
from initlab.model import specs as S
from initlab.model.specs import Scheme

POLICIES = (
    "auto",
    "torch",
    "xavier",
    "he",
    "lecun",
    "orthogonal",
    "gpt2",
    "fixup",
    "zero_residual",
    "delta_orthogonal",
    "critical",
)

#: Options each policy accepts (``initlab.policies.<name>(**options)``).
POLICY_OPTIONS: dict[str, tuple[str, ...]] = {
    "auto": ("lstm_forget_bias",),
    "zero_residual": ("lstm_forget_bias",),
    "critical": ("sigma_b2", "q_star"),
}
#: Jozefowicz et al. 2015 (sec. 3, following Gers et al. 2000): LSTM forget-gate bias 1.
LSTM_FORGET_BIAS = 1.0

#: Roles whose values the model intends (structure found them by use): its own init is kept.
INTENDED_ROLES = frozenset({"log_param", "softplus_bias", "channel_scale", "attn_bias",
                            "learned_token"})  # fmt: skip
#: Fedus et al. 2022 (Switch Transformer, sec. 2.4): the router's init scale reduced 10×.
ROUTER_SCALE = 0.1


@dataclass(frozen=True)
class ParamContext:
    """Everything a policy may look at for one parameter."""

    name: str
    local: str
    shape: tuple[int, ...]
    module: nn.Module
    module_name: str
    kind: str
    role: str
    fans: Fans | None
    activation: str = "linear"
    activation_params: dict[str, Any] = field(default_factory=dict)
    glu: str | None = None
    residual_end: bool = False
    is_output: bool = False
    tied_output: bool = False
    is_weight: bool = False
    scalar: str | None = None
    branch_len: int = 0
    in_branch: bool = False
    part: str | None = None
    note: str = ""
    attn_logits: tuple[int, float] | None = None


@dataclass(frozen=True)
class ModelContext:
    """Model-level facts: residual branch count, GPT-2's n_layer, Fixup's branch sizes."""

    n_residual: int
    n_layer: int
    has_c_proj: bool
    has_scalars: bool
    zero_gamma_norms: frozenset[str]
    ends_without_norm: frozenset[str]
    n_conv: int
    options: dict[str, Any] = field(default_factory=dict)
    tied_embedding: bool = False


@dataclass(frozen=True)
class Policy:
    """A policy name and its options, as a value (printable, comparable, parseable back).

    Attributes:
        name: one of :data:`POLICIES`.
        options: sorted (name, value) pairs (see :data:`POLICY_OPTIONS`).

    Examples:
        >>> p = make_policy("critical(sigma_b2=0.05)")
        >>> p.name, p.get("sigma_b2"), str(p)
        ('critical', 0.05, 'critical(sigma_b2=0.05)')
        >>> make_policy(str(p)) == p
        True
    """

    name: str
    options: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.options).get(key, default)

    def __str__(self) -> str:
        if not self.options:
            return self.name
        return f"{self.name}({', '.join(f'{k}={v:.10g}' for k, v in self.options)})"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "options": dict(self.options)}


_SPEC = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$", re.S)


def make_policy(spec: str | Policy, **options: Any) -> Policy:
    """A validated :class:`Policy` from a name, a ``"name(key=value, ...)"`` string or a Policy
    (``options`` are added to it).

    Raises:
        InitError: an unknown policy (the message lists them), an option the policy does not
            take, a value that is not a finite number, or ``sigma_b2`` and ``q_star`` together.

    Examples:
        >>> str(make_policy("critical", q_star=1.0))
        'critical(q_star=1)'
    """
    if isinstance(spec, Policy) and type(spec) is not Policy and not options:
        return spec  # a policy value that validated itself (initlab.mup.policy)
    if isinstance(spec, Policy):
        name, opts = spec.name, dict(spec.options)
    elif isinstance(spec, str):
        m = _SPEC.match(spec)
        name = m.group(1) if m else spec
        opts = _parse_options(spec, m.group(2)) if m and m.group(2) is not None else {}
    else:
        raise InitError(
            f"policy must be a name such as 'auto' or an initlab.policies value, got "
            f"{type(spec).__name__}"
        )
    if name not in POLICY_FUNCS:
        raise InitError(f"unknown policy {name!r}; use one of {', '.join(POLICIES)}")
    opts.update({k: v for k, v in options.items() if v is not None})
    allowed = POLICY_OPTIONS.get(name, ())
    out: dict[str, float] = {}
    for k, v in opts.items():
        if k not in allowed:
            takes = f"it takes {', '.join(allowed)}" if allowed else "it takes no options"
            raise InitError(f"policy {name!r}: unknown option {k!r}; {takes}")
        try:
            x = float(v)
        except (TypeError, ValueError):
            x = math.nan
        if isinstance(v, bool) or not math.isfinite(x) or (k != "lstm_forget_bias" and x < 0):
            what = "a finite number" if k == "lstm_forget_bias" else "a finite variance ≥ 0"
            raise InitError(f"policy {name!r}: option {k} must be {what}, got {v!r}")
        out[k] = x
    if "sigma_b2" in out and "q_star" in out:
        raise InitError(
            f"policy {name!r}: pass sigma_b2= or q_star=, not both (each picks one point of the "
            "critical line)"
        )
    return Policy(name, tuple(sorted(out.items())))


def _parse_options(spec: str, text: str) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, eq, val = part.partition("=")
        if not eq or not key.strip():
            raise InitError(
                f"policy {spec!r}: expected name(key=value, ...), e.g. 'critical(sigma_b2=0.05)'"
            )
        opts[key.strip()] = val.strip()
    return opts


# ----------------------------------------------------------------------- shared pieces -------
def _common(c: ParamContext) -> tuple[Scheme, str] | None:
    if c.role in INTENDED_ROLES:
        return S.default(), c.note or f"{c.role}: the model's own init kept"
    if c.scalar == "scalar_bias":
        return S.zeros(), "scalar bias added in the forward: 0 (Fixup's rule 3)"
    if c.scalar == "scalar_scale":
        return S.ones(), "scalar multiplier in the forward: 1 (Fixup's rule 3)"
    if c.kind == "norm":
        if (c.part or c.local) == "weight":
            return S.ones(), "norm scale γ = 1"
        return S.zeros(), "norm shift β = 0"
    if c.kind == "prelu":
        return S.constant(getattr(c.module, "init", 0.25)), "PReLU slope: its init value"
    if c.role == "bias":
        return S.zeros(), "bias = 0"
    return None


def _torch_fan_in(module: nn.Module) -> int:
    w = getattr(module, "weight", None)
    if w is None or w.dim() < 2:
        return 0
    return int(w.shape[1] * math.prod(w.shape[2:]))


def torch_default(c: ParamContext) -> tuple[Scheme, str] | None:
    """The distribution the module's own ``reset_parameters`` draws (None: not known)."""
    m = c.module
    if c.kind == "norm":
        return (S.ones(), "torch default: γ = 1") if c.local == "weight" else (
            S.zeros(), "torch default: β = 0")  # fmt: skip
    if c.kind == "prelu":
        return S.constant(getattr(m, "init", 0.25)), "torch default: PReLU init"
    if c.kind == "embedding":
        return S.normal(1.0), "torch default: N(0, 1)"
    if c.kind in ("linear", "conv", "conv_transpose"):
        fi = _torch_fan_in(m)
        if fi <= 0:
            return None
        b = 1.0 / math.sqrt(fi)
        what = "kaiming_uniform_(a=√5): U(±1/√fan_in)" if c.local == "weight" else "U(±1/√fan_in)"
        return S.uniform(bound=b), f"torch default {what}, torch's fan_in {fi}"
    if c.kind == "bilinear":
        b = 1.0 / math.sqrt(m.weight.shape[1])
        return S.uniform(bound=b), "torch default: U(±1/√in1_features)"
    if c.kind == "recurrent":
        b = 1.0 / math.sqrt(m.hidden_size) if m.hidden_size > 0 else 0.0
        return S.uniform(bound=b), "torch default: U(±1/√hidden_size)"
    if c.kind == "attention":
        e = m.embed_dim
        if c.local in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
            fo = c.shape[0]
            fi = c.shape[1]
            return S.uniform(bound=math.sqrt(6.0 / (fi + fo))), (
                "torch default: xavier_uniform_ on the packed matrix (torch's fans)")
        if c.local in ("bias_k", "bias_v"):
            return S.normal(math.sqrt(1.0 / e)), "torch default: xavier_normal_"
        if c.local in ("in_proj_bias", "out_proj.bias"):
            return S.zeros(), "torch default: 0"
        if c.local == "out_proj.weight":
            return S.uniform(bound=1.0 / math.sqrt(e)), "torch default (Linear): U(±1/√E)"
    return None


def _scaled(s: Scheme, f: float) -> Scheme:
    if f == 1.0:
        return s
    if s.kind == "xavier":
        return S.xavier(s.get("gain", 1.0) * f, s.get("distribution", "normal"))
    if s.kind == "he":
        return S.he(s.get("activation"), s.get("mode", "fan_in"), s.get("distribution", "normal"),
                    factor=s.get("factor", 1.0) * f, negative_slope=s.get("negative_slope"))
    if s.kind == "lecun":
        return S.lecun(s.get("distribution", "normal"), factor=s.get("factor", 1.0) * f)
    if s.kind == "normal":
        return S.normal(s.get("std", 1.0) * f)
    if s.kind == "orthogonal":
        return S.orthogonal(s.get("gain", 1.0) * f)
    return s


def _rectifier(act: str, params: dict[str, Any]) -> bool:
    """A clamp at 0 from below (hardtanh(0, m), ReLU6's form) is a rectifier: He, not Xavier."""
    return act == "hardtanh" and float(params.get("min_val", -1.0)) >= 0.0


def _textbook_scheme(act: str) -> str:
    """The registry's guideline scheme of ``act``; a name it does not know is ReLU-like (He)."""
    try:
        return get_activation(act).textbook_scheme
    except InitError:
        return "he"


_OWN = "no rule covers it: the model's own init"


def _by_activation(c: ParamContext) -> tuple[Scheme, str]:
    act = c.activation
    if c.glu == "gate":
        return S.lecun(), "gate of a gated unit: LeCun (unit-variance gate input)"
    scheme = _textbook_scheme(act)
    if scheme == "xavier" and not _rectifier(act, c.activation_params):
        return S.xavier(), f"followed by {act}: Xavier (Glorot & Bengio 2010)"
    if scheme == "lecun":
        return S.lecun(), "followed by selu: LeCun (Klambauer et al. 2017)"
    g = S.variance_gain(act, c.activation_params)
    what = "value half of " if c.glu == "value" else ""
    label = act + ("(" + ", ".join(f"{k}={v}" for k, v in c.activation_params.items()) + ")"
                   if c.activation_params else "")
    return S.he(), f"{what}{label}: He with measured gain {g:.4g} = 1/√E[φ(z)²]"


# ---------------------------------------------------------------------------- policies ------
def _lstm_bias(c: ParamContext, m: ModelContext) -> tuple[Scheme, str] | None:
    if not (isinstance(c.module, nn.LSTM | nn.LSTMCell) and c.role == "bias" and c.shape
            and c.shape[0] % 4 == 0):  # fmt: skip
        return None
    fb = m.options.get("lstm_forget_bias", LSTM_FORGET_BIAS)
    if c.local.startswith("bias_hh"):
        return S.zeros(), "LSTM bias_hh = 0 (the forget-gate bias is in bias_ih; torch adds them)"
    if not c.local.startswith("bias_ih") or fb == 0:
        return None
    return S.gate_constant(0.0, fb, 0.0, 0.0), (
        f"LSTM gates (i, f, g, o): forget-gate bias {fb:g}, others 0 (Gers et al. 2000; "
        "Jozefowicz et al. 2015)")  # fmt: skip


def _unscaled_query(c: ParamContext, s: Scheme, why: str) -> tuple[Scheme, str]:
    """A query whose attention does not scale q·kᵀ by 1/√d_head (T5): its std × 1/(scale·√d),
    which folds the missing factor into the init as Hugging Face's T5 init does (query std
    (d_model·d_kv)^(−1/2), keys d_model^(−1/2)), so the logits have the scaled attention's
    variance. A packed q/k/v weight cannot scale q alone: said in the reason, not changed."""
    if c.attn_logits is None or not c.is_weight:
        return s, why
    d, scale = c.attn_logits
    if c.role == "attn_qkv":
        return s, why + (f"; attention logits unscaled (×{scale:g}, d_head {d}) but q is packed "
                         "with k/v: not corrected, scale q with a rule")
    if c.role != "attn_q":
        return s, why
    f = 1.0 / (scale * math.sqrt(d))
    if scale == 1.0:
        what = f"attention logits unscaled: query std × 1/√d_head = 1/√{d}, as T5"
    else:
        what = (f"attention logits scaled by {scale:g}, not 1/√d_head: query std × "
                f"1/({scale:g}·√{d}) = {f:.4g}")
    return _scaled(s, f), f"{why}; {what}"


def auto(c: ParamContext, m: ModelContext) -> tuple[Scheme, str]:
    """The seed's guideline table (see the module docstring)."""
    r = _lstm_bias(c, m) or _common(c)
    if r:
        return r
    if c.tied_output:
        return S.normal(0.02), "tied embedding / output layer: N(0, 0.02²) (GPT-2)"
    if c.role == "pos_embedding":
        std = 0.02 if m.tied_embedding else 1.0
        return S.normal(std), (f"position embedding: N(0, {std:g}²), the token embedding's scale "
                               "(the two are added)")
    if c.kind == "embedding":
        return S.normal(1.0), "embedding: N(0, 1) (guideline table)"
    if c.is_output:
        return S.normal(0.01), "output layer: small N(0, 0.01²), initial logits ≈ 0"
    if c.role == "recurrent_hh":
        return S.orthogonal(1.0), "recurrent weight: orthogonal per gate (Saxe et al. 2014)"
    if c.role == "recurrent_ih":
        return S.xavier(), "recurrent input weight: Xavier per gate"
    if c.kind == "custom":
        return S.default(), _OWN
    if c.role == "router":
        return S.lecun(factor=math.sqrt(ROUTER_SCALE)), (
            "MoE router: LeCun × √0.1, near-uniform routing at the start (Fedus et al. 2022, "
            "sec. 2.4)")
    if c.role in ("attn_q", "attn_k", "attn_v", "attn_qkv"):
        s, why = _unscaled_query(c, S.xavier(), "attention projection: Xavier (per q/k/v block)")
    else:
        s, why = _by_activation(c)
    if c.residual_end and m.n_residual:
        f = 1.0 / math.sqrt(m.n_residual)
        s = _scaled(s, f)
        why += f"; ends a residual branch: × 1/√{m.n_residual} (Radford et al. 2019)"
    return s, why


def torch_policy(c: ParamContext, m: ModelContext) -> tuple[Scheme, str]:
    """Each module's own ``reset_parameters`` distribution."""
    if c.scalar:
        return S.keep(), "kept: a plain parameter has no torch default (as constructed)"
    r = torch_default(c)
    if r:
        return r
    if hasattr(c.module, "reset_parameters"):
        return Scheme("module_default"), "the module's own reset_parameters (seeded by name)"
    return S.default(), _OWN


def _weight_only(
    fn: Callable[[ParamContext], tuple[Scheme, str]],
) -> Callable[[ParamContext, ModelContext], tuple[Scheme, str]]:
    def policy(c: ParamContext, m: ModelContext) -> tuple[Scheme, str]:
        r = _common(c)
        if r:
            return r
        if c.kind == "custom" or c.fans is None:
            return S.default(), _OWN
        return fn(c)

    return policy


def _xavier(c: ParamContext) -> tuple[Scheme, str]:
    return S.xavier(distribution="uniform"), "Xavier uniform (Glorot & Bengio 2010, eq. 16)"


def _he(c: ParamContext) -> tuple[Scheme, str]:
    if c.activation == "leaky_relu":
        a = c.activation_params.get("negative_slope", 0.01)
        return S.he("leaky_relu", negative_slope=a), f"He for leaky ReLU (a = {a})"
    return S.he("relu"), "He: N(0, 2/fan_in) (He et al. 2015)"


def _lecun(c: ParamContext) -> tuple[Scheme, str]:
    return S.lecun(), "LeCun: N(0, 1/fan_in)"


def orthogonal_policy(c: ParamContext, m: ModelContext) -> tuple[Scheme, str]:
    """Orthogonal × the activation's variance gain (Saxe et al. 2014)."""
    r = _common(c)
    if r:
        return r
    if c.kind == "embedding":
        return S.normal(1.0), "embedding: N(0, 1) (an orthogonal vocab×d table is ~1/√vocab)"
    if c.kind == "custom" or c.fans is None:
        return S.default(), _OWN
    act = "linear" if c.glu == "gate" else c.activation
    g = S.variance_gain(act, c.activation_params if act == c.activation else {})
    return S.orthogonal(g), f"orthogonal × gain {g:.4g} of {act} (Saxe et al. 2014)"


def gpt2(c: ParamContext, m: ModelContext) -> tuple[Scheme, str]:
    """nanoGPT exactly: Linear/Embedding N(0, 0.02²), zero biases, ``c_proj.weight`` scaled."""
    if isinstance(c.module, nn.Linear | nn.Embedding) or c.kind in ("linear", "embedding"):
        if c.local == "bias":
            return S.zeros(), "nanoGPT: Linear bias = 0"
        resid = c.name.endswith("c_proj.weight") if m.has_c_proj else c.residual_end
        if resid:
            std = 0.02 / math.sqrt(2 * m.n_layer)
            return S.normal(std), f"nanoGPT residual projection: 0.02/√(2·{m.n_layer})"
        return S.normal(0.02), "nanoGPT: N(0, 0.02²)"
    r = torch_policy(c, m)
    return r[0], "nanoGPT leaves it as constructed: " + r[1]


def fixup(c: ParamContext, m: ModelContext) -> tuple[Scheme, str]:
    """Fixup (Zhang et al. 2019, sec. 3)."""
    if m.n_residual == 0:
        raise InitError(
            "policy 'fixup' needs residual branches (Zhang et al. 2019) and none were found in "
            "this model's forward; use policy='he' or 'auto'"
        )
    r = _common(c)
    if r:
        return r
    if c.is_output:
        return S.zeros(), "Fixup rule 1: classification layer = 0"
    if c.residual_end:
        return S.zeros(), "Fixup rule 1: last layer of a residual branch = 0"
    if c.kind == "embedding":
        return S.normal(1.0), "embedding: N(0, 1)"
    if c.kind == "custom" or c.fans is None:
        return S.default(), _OWN
    if c.in_branch and c.branch_len >= 2:
        f = m.n_residual ** (-1.0 / (2 * c.branch_len - 2))
        return S.he(factor=f), (
            f"Fixup rule 2: He × L^(−1/(2m−2)) = {f:.6g} (L = {m.n_residual}, m = {c.branch_len})")
    s, why = _by_activation(c)
    return s, "Fixup: outside the branches, standard init: " + why


def zero_residual(c: ParamContext, m: ModelContext) -> tuple[Scheme, str]:
    """``auto`` + zero-γ on each branch's last norm, or zero on its last layer."""
    if c.kind == "norm" and c.local == "weight" and c.module_name in m.zero_gamma_norms:
        return S.zeros(), "last norm γ of a residual branch = 0 (Goyal et al. 2017)"
    if c.is_weight and c.residual_end and c.module_name in m.ends_without_norm:
        return S.zeros(), "last layer of a residual branch = 0 (no norm after it)"
    return auto(c, m)


def delta_orthogonal(c: ParamContext, m: ModelContext) -> tuple[Scheme, str]:
    """Delta-orthogonal convs (Xiao et al. 2018), orthogonal Linear layers."""
    if m.n_conv == 0:
        raise InitError(
            "policy 'delta_orthogonal' is for CNNs (Xiao et al. 2018) and this model has no "
            "Conv1d/2d/3d layer; use policy='orthogonal'"
        )
    r = _common(c)
    if r:
        return r
    if c.kind == "conv" and c.is_weight:
        groups = getattr(c.module, "groups", 1)
        g = S.variance_gain(c.activation, c.activation_params)
        if groups == 1 and c.shape[1] <= c.shape[0]:
            return S.delta_orthogonal(g), f"delta-orthogonal × gain {g:.4g} of {c.activation}"
        return S.he(), "conv with groups or in > out cannot be delta-orthogonal: He"
    return orthogonal_policy(c, m)


_CRITICAL_KINDS = frozenset({"linear", "conv", "conv_transpose"})


def critical(c: ParamContext, m: ModelContext) -> tuple[Scheme, str]:
    """Edge of chaos for the layer's activation (initlab.theory.critical_init): weights
    N(0, σ_w²/fan_in), biases N(0, σ_b²)."""
    plain = c.kind in _CRITICAL_KINDS and not c.glu and c.scalar is None
    if plain and (c.role == "bias" or (c.is_weight and c.fans is not None)):
        found = _critical_for(c, m.options)
        if found is not None:
            opts, ci, how = found
            if c.role == "bias":
                if ci.sigma_b2 == 0:
                    return S.critical(**opts), f"bias of the {ci.activation} critical point: 0"
                return S.critical(**opts), (
                    f"bias of the {ci.activation} critical point: N(0, σ_b² = {ci.sigma_b2:.6g})")
            return S.critical(**opts), (
                f"{ci.activation} critical point: σ_w² = {ci.sigma_w2:.6g}, σ_b² = "
                f"{ci.sigma_b2:.6g}, q* = {ci.q_star:.6g}, χ₁ = 1 ({how}; Poole et al. 2016, "
                "Schoenholz et al. 2017)")  # fmt: skip
    if c.kind == "recurrent" and c.scalar is None:
        s, why = auto(c, m)  # weights and gate biases (LSTM forget gate) as auto
        return s, "no single-activation critical point here: " + why
    r = _common(c)
    if r:
        return r
    if c.kind == "embedding":
        return S.normal(1.0), "embedding: N(0, 1)"
    if c.kind == "custom" or c.fans is None:
        return S.default(), _OWN
    if c.glu or c.role.startswith("recurrent") or c.kind == "attention":
        s, why = auto(c, m)
        return s, "no single-activation critical point here: " + why
    s, why = _by_activation(c)
    return s, f"{c.activation} has no critical point: " + why


def _critical_for(
    c: ParamContext, options: dict[str, Any]
) -> tuple[dict[str, float], Any, str] | None:
    """(scheme options, CriticalInit, how it was chosen), or None when the activation has none."""
    opts = {k: options[k] for k in ("sigma_b2", "q_star") if k in options}
    tries = [opts, {}] if opts else [{}]
    for i, o in enumerate(tries):
        try:
            ci = S.critical_point_of(c.activation, c.activation_params, **o)
        except InitError:
            continue
        if o.get("q_star") is not None:
            how = f"q* = {o['q_star']:g} chosen (Xiao et al. 2018)"
        elif o.get("sigma_b2") is not None:
            how = f"σ_b² = {o['sigma_b2']:g} chosen"
        elif ci.policy == "zero_bias":
            how = "the σ_b = 0 point is stable"
        else:
            how = (
                "the σ_b = 0 point is unstable or absent: the smallest q* ≥ 1 whose fixed "
                f"point attracts, length-map slope {ci.length_slope:.3g} (Xiao et al. 2018)"
            )
        if not ci.q_stable:
            how += f"; warning: q* repels (length-map slope {ci.length_slope:.4g} > 1)"
        if i > 0:
            asked = ", ".join(f"{k}={v:g}" for k, v in opts.items())
            how += f"; {c.activation} has none at {asked}"
        return o, ci, how
    return None


POLICY_FUNCS: dict[str, Callable[[ParamContext, ModelContext], tuple[Scheme, str]]] = {
    "auto": auto,
    "torch": torch_policy,
    "xavier": _weight_only(_xavier),
    "he": _weight_only(_he),
    "lecun": _weight_only(_lecun),
    "orthogonal": orthogonal_policy,
    "gpt2": gpt2,
    "fixup": fixup,
    "zero_residual": zero_residual,
    "delta_orthogonal": delta_orthogonal,
    "critical": critical,
    "mup": lambda c, m: __import__("initlab.model.mup", fromlist=["_"]).mup_policy(c, m),
}


def get_policy(name: str) -> Callable[[ParamContext, ModelContext], tuple[Scheme, str]]:
    """The policy function for ``name``.

    Raises:
        InitError: an unknown name (the message lists them).

    Examples:
        >>> get_policy("auto").__name__
        'auto'
    """
    if not isinstance(name, str) or name not in POLICY_FUNCS:
        raise InitError(f"unknown policy {name!r}; use one of {', '.join(POLICIES)}")
    return POLICY_FUNCS[name]


__all__ = [
    "LSTM_FORGET_BIAS",
    "POLICIES",
    "POLICY_OPTIONS",
    "ModelContext",
    "ParamContext",
    "Policy",
    "get_policy",
    "make_policy",
    "torch_default",
]
