"""μP — the Maximal Update Parametrization (Yang et al. 2022, "Tensor Programs V", arXiv
2203.03466) — for any model initlab can plan: init, per-parameter learning rates and the forward
changes, found from two builds of the model at different widths.

Which dimensions are "infinite" (grow with width) is read off two builds: every parameter
dimension that differs between them is infinite, every other one finite (vocabulary, input
features, classes, kernel size, a fixed head dimension). No base-shape file and no module swap:
``initlab.mup.policy(base=small_model)`` (or ``factory=, widths=``) is an ordinary initlab
policy value.

Every parameter falls in one class of the paper's Table 3 (by its fans: fan_in infinite? fan_out
infinite?) and gets, relative to the base model (``m_in``, ``m_out``: its fan_in and fan_out at
this width divided by those of the base build, the paper's "width multipliers", sec. 4 / App. J):

=============  ==================  ================  ==================  =====================
class          example             init std          Adam / AdamW lr     SGD lr
=============  ==================  ================  ==================  =====================
input          first Linear, emb   σ_base            η                   η·m_out
vector         biases, norm γ/β    as the base       η                   η·m_out
hidden         Linear(n, n)        σ_base/√m_in      η/m_in              η·m_out/m_in
output         readout Linear      σ_base/m_in (0)   η/m_in              η/m_in
tied           emb = readout       σ_base            η (× 1/m_in fwd)    η·m_in (× 1/m_in fwd)
finite         no infinite dim     as the base       η                   η
=============  ==================  ================  ==================  =====================

σ_base is the std the underlying policy (``init="auto"`` by default: He/Xavier/LeCun by the
activation) gives at the *base* shape, so at the base width μP and that policy coincide (the
point of μTransfer: tune at the base width, copy the hyperparameters to the wide model). This is
Table 3's formulation: the output multiplier 1/fan_in of Table 8 is absorbed into the output
layer's init and learning rate, which for Adam and SGD gives the same training trajectory (the
paper's sec. J.2.1 "equivalent parametrizations") and needs no forward change. Only two things
cannot be absorbed, and :func:`wrap` applies them without editing the model's code:

- attention logits scaled by 1/d instead of 1/√d (sec. 4, Table 3 note) when the head dimension
  grows: every ``scaled_dot_product_attention`` call gets ``scale × √(d_base/d)``;
- a readout tied to the input embedding (GPT-2, nanoGPT): one tensor cannot have two inits and
  two learning rates, so the readout's output is multiplied by 1/m_in (Table 8's multiplier).

Examples:
    >>> import torch, initlab
    >>> from torch import nn
    >>> def mlp(width):
    ...     return nn.Sequential(nn.Linear(8, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
    ...                          nn.Linear(width, 3))
    >>> model = mlp(256)
    >>> pol = initlab.mup.policy(factory=mlp, widths=(64, 128))
    >>> plan = initlab.init(model, torch.randn(2, 8), policy=pol)
    >>> t = initlab.mup.table(plan)
    >>> [(r.name, r.cls, r.lr_mult) for r in t.rows if r.name.endswith("weight")]
    [('0.weight', 'input', 1.0), ('2.weight', 'hidden', 0.25), ('4.weight', 'output', 0.25)]
    >>> groups = initlab.param_groups(model, plan, lr=1e-3)
    >>> opt = torch.optim.Adam(groups)
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn
from torch.nn import functional as _F
from torch.overrides import TorchFunctionMode

from initlab.errors import InitError
from initlab.model import specs as S
from initlab.model.policies import ModelContext, ParamContext, Policy, get_policy
from initlab.model.specs import Scheme, Target, resolve
from initlab.views import Rendered

#: The classes of Yang et al. 2022, Table 3 (plus the tied embedding/readout and finite tensors).
CLASSES = ("input", "hidden", "output", "tied", "vector", "finite")
OPTIMIZERS = ("adam", "adamw", "sgd")
_HEAD_ATTRS = ("num_heads", "n_head", "num_attention_heads", "n_heads", "heads")
_ATTN_ROLES = frozenset({"attn_q", "attn_k", "attn_qkv"})
_TOL = 1e-9
#: Schemes drawn i.i.d. per element, whose std μP rescales.
_IID = frozenset({"normal", "uniform", "truncated_normal", "xavier", "he", "lecun",
                  "variance_scaling", "critical"})


# ------------------------------------------------------------------------- the base shapes --
@dataclass(frozen=True)
class BaseShape:
    """One parameter of the base build: its shape, raw fans and which of them are infinite.

    ``inf_in``/``inf_out``/``inf_dims`` are None when only one other build is known (then the
    model being planned is the second build).
    """

    shape: tuple[int, ...]
    fan_in: float | None
    fan_out: float | None
    inf_in: bool | None = None
    inf_out: bool | None = None
    inf_dims: tuple[bool, ...] | None = None


@dataclass(frozen=True)
class BaseShapes:
    """The base build's parameters by name, and its attention head dimensions by module."""

    params: tuple[tuple[str, BaseShape], ...]
    head_dims: tuple[tuple[str, int], ...] = ()
    source: str = ""
    modules: dict[str, nn.Module] = field(default_factory=dict, compare=False, repr=False)

    def get(self, name: str) -> BaseShape | None:
        return dict(self.params).get(name)


def _raw_fans(rows: Any) -> dict[str, tuple[tuple[int, ...], float | None, float | None]]:
    out = {}
    for r in rows:
        if r.tensor != "parameter":
            continue
        fo = None if r.fan_out is None else r.fan_out * r.blocks
        for n in (r.name, *r.aliases):
            out[n] = (tuple(r.shape), r.fan_in, fo)
    return out


def _head_dims(model: nn.Module) -> dict[str, int]:
    out = {}
    for name, m in model.named_modules():
        hd = getattr(m, "head_dim", None)
        if not isinstance(hd, int):
            heads = next((getattr(m, a) for a in _HEAD_ATTRS if isinstance(getattr(m, a, None),
                                                                            int)), None)
            width = next((getattr(m, a) for a in ("embed_dim", "n_embd", "hidden_size", "d_model")
                          if isinstance(getattr(m, a, None), int)), None)
            hd = width // heads if heads and width and width % heads == 0 else None
        if isinstance(hd, int) and hd > 0:
            out[name] = hd
    return out


def base_shapes(base: nn.Module, delta: nn.Module | None = None) -> BaseShapes:
    """The shapes of ``base`` and, given ``delta`` (the same model at another width), which
    dimensions are infinite (those that differ). Builds a plan of each without a forward pass
    (the fans only), so meta-device models are fine.

    Raises:
        InitError: not modules, different parameter names or ranks, or ``delta`` identical to
            ``base`` (then no dimension grows with width).

    Examples:
        >>> from torch import nn
        >>> b = base_shapes(nn.Linear(4, 8), nn.Linear(4, 16))
        >>> b.get("weight").inf_out, b.get("weight").inf_in
        (True, False)
    """
    from initlab.model.plan import plan as build_plan

    for what, m in (("base", base), ("delta", delta)):
        if m is not None and not isinstance(m, nn.Module):
            raise InitError(f"mup: {what} must be an nn.Module (the model at another width), "
                            f"got {type(m).__name__}")
    a = _raw_fans(build_plan(base, None, "torch").rows)
    heads = _head_dims(base)
    if delta is None:
        params = {n: BaseShape(s, fi, fo) for n, (s, fi, fo) in a.items()}
        return BaseShapes(tuple(sorted(params.items())), tuple(sorted(heads.items())), "base",
                          dict(base.named_modules()))
    b = _raw_fans(build_plan(delta, None, "torch").rows)
    if set(a) != set(b):
        diff = sorted(set(a) ^ set(b))[:4]
        raise InitError(f"mup: base and delta have different parameters ({', '.join(diff)}); "
                        "build both with the same factory, changing only the width")
    params = {}
    any_inf = False
    for n, (s, fi, fo) in a.items():
        s2, fi2, fo2 = b[n]
        if len(s) != len(s2):
            raise InitError(f"mup: {n} has shape {s} in base and {s2} in delta; build both with "
                            "the same factory, changing only the width")
        dims = tuple(x != y for x, y in zip(s, s2, strict=True))
        any_inf |= any(dims)
        params[n] = BaseShape(s, fi, fo, fi != fi2 if fi is not None else None,
                              fo != fo2 if fo is not None else None, dims)
    if not any_inf:
        raise InitError("mup: base and delta have the same shapes, so no dimension grows with "
                        "width; build them at two different widths")
    return BaseShapes(tuple(sorted(params.items())), tuple(sorted(heads.items())), "base+delta",
                      dict(base.named_modules()))


# ----------------------------------------------------------------------------- the policy --
@dataclass(frozen=True)
class MuPolicy(Policy):
    """The ``"mup"`` policy with its base shapes: pass it as ``policy=`` to
    :func:`initlab.init` / :func:`initlab.plan`. Build it with :func:`policy`."""

    def __str__(self) -> str:
        o = dict(self.options)
        parts = [f"init={o['init']}", f"readout={o['readout']}"]
        if o.get("zero_query"):
            parts.append("zero_query=True")
        return f"mup({', '.join(parts)}; base {o['base'].source})"

    def to_dict(self) -> dict[str, Any]:
        o = dict(self.options)
        return {"name": "mup", "options": {k: v for k, v in o.items() if k != "base"}}


def policy(
    base: nn.Module | None = None,
    delta: nn.Module | None = None,
    *,
    factory: Callable[[int], nn.Module] | None = None,
    widths: Sequence[int] | None = None,
    init: str = "auto",
    readout: str = "scaled",
    zero_query: bool = False,
) -> MuPolicy:
    """The μP policy (Yang et al. 2022, Table 3), for ``initlab.init(model, x, policy=...)``.

    Give the model at other widths, in one of three ways:

    - ``factory`` and ``widths``: ``factory(widths[0])`` is the base (μP equals ``init`` there),
      ``factory(widths[1])`` tells which dimensions grow (built on the meta device: free);
    - ``base`` and ``delta``: two builds at different widths, ``base`` the base;
    - ``base`` alone: the model you then plan is the second build (it must differ in width).

    Args:
        init: the underlying policy whose stds at the base shape μP keeps (``auto``, ``torch``,
            ``he``, ``lecun``, ``xavier``...).
        readout: ``"scaled"`` (σ_base/m_in, Table 3) or ``"zero"`` (the readout starts at 0,
            recommended in the paper's App. D.2).
        zero_query: also start the attention query projection at 0 (App. D.2); only where the
            query has its own weight (not packed q/k/v).

    Raises:
        InitError: none or several of the ways above, fewer than two distinct widths, a factory
            that fails, an unknown ``init`` or ``readout``.

    Examples:
        >>> from torch import nn
        >>> p = policy(factory=lambda w: nn.Linear(4, w), widths=(8, 16))
        >>> str(p)
        'mup(init=auto, readout=scaled; base base+delta)'
    """
    if readout not in ("scaled", "zero"):
        raise InitError(f"mup: readout must be 'scaled' or 'zero', got {readout!r}")
    if init == "mup" or not isinstance(init, str):
        raise InitError(f"mup: init= is the underlying policy name such as 'auto', got {init!r}")
    get_policy(init)  # validates the name
    if factory is not None:
        if base is not None or delta is not None:
            raise InitError("mup: give factory= and widths=, or base= (and delta=), not both")
        ws = _check_widths(widths)
        base, delta = _build(factory, ws[0]), _build(factory, ws[1])
    elif widths is not None:
        raise InitError("mup: widths= needs factory= (a function width -> model)")
    if base is None:
        raise InitError(
            "policy 'mup' needs to know which dimensions grow with width: pass "
            "initlab.mup.policy(factory=make_model, widths=(64, 128)) or "
            "initlab.mup.policy(base=model_at_base_width)"
        )
    shapes = base_shapes(base, delta)
    return MuPolicy("mup", (("base", shapes), ("init", init), ("readout", readout),
                            ("zero_query", bool(zero_query))))


def _check_widths(widths: Sequence[int] | None) -> tuple[int, ...]:
    try:
        ws = tuple(int(w) for w in (widths or ()))
    except (TypeError, ValueError):
        ws = ()
    if len(ws) < 2 or ws[0] == ws[1] or any(w <= 0 for w in ws):
        raise InitError(f"mup: widths must be two or more positive, different widths (the first "
                        f"is the base), got {widths!r}")
    return ws


def _build(factory: Callable[[int], nn.Module], width: int) -> nn.Module:
    if not callable(factory):
        raise InitError(f"mup: factory must be a function width -> nn.Module, got "
                        f"{type(factory).__name__}")
    try:
        with torch.device("meta"):
            m = factory(width)
    except Exception as e:  # the user's code: report it, do not hide it in a traceback
        raise InitError(f"mup: factory({width}) failed ({type(e).__name__}: {e}); the factory "
                        "must take the width as its first argument") from None
    if not isinstance(m, nn.Module):
        raise InitError(f"mup: factory({width}) returned {type(m).__name__}, not an nn.Module")
    return m


def _fan_in_dim(c: ParamContext) -> int | None:
    """Which dim of a matrix this plan reads fan_in from: 1 for torch's (out, in), 0 for a
    transposed layout (GPT-2's Conv1D, ``x @ W``, found by the trace); None otherwise."""
    if c.fans is None or len(c.shape) != 2:
        return None
    return 1 if c.fans.fan_in == c.shape[1] else 0 if c.fans.fan_in == c.shape[0] else None


def _base_fans(c: ParamContext, b: BaseShape) -> tuple[float, float]:
    """(fan_in, fan_out × blocks) of the base build in this plan's layout. The base is planned
    without a forward (its fans by module type); this plan may read a matrix transposed (the
    trace saw ``x @ W``), so a matrix's base fans are its base dims in this plan's order."""
    i_in = _fan_in_dim(c)
    if i_in is None or c.fans is None:
        return b.fan_in, b.fan_out  # type: ignore[return-value]  # checked by the caller
    fo = c.fans.fan_out * c.fans.blocks
    return float(b.shape[i_in]), fo * b.shape[1 - i_in] / c.shape[1 - i_in]


def _classify(c: ParamContext, b: BaseShape) -> tuple[str, float, float]:
    """(class, m_in, m_out) of one parameter against its base shape."""
    if len(c.shape) != len(b.shape):
        raise InitError(f"mup: {c.name} has shape {c.shape} here and {b.shape} in the base; "
                        "build the base with the same factory, changing only the width")
    dims = b.inf_dims if b.inf_dims is not None else tuple(
        x != y for x, y in zip(c.shape, b.shape, strict=True))
    ratio = float(math.prod(x / y for x, y, inf in zip(c.shape, b.shape, dims, strict=True)
                            if inf))  # fmt: skip
    if c.tied_output:
        # embedding = readout: one infinite dim (d), whose multiplier is the readout's m_in; the
        # base build was planned untraced (its fans are the embedding's, this plan's the
        # readout's use), so the ratio comes from the shapes, not from the two fans
        return "tied", ratio, 1.0
    if c.fans is None or b.fan_in is None or b.fan_out is None:
        # vector-like: its one (or no) infinite dimension is its length
        return ("vector" if any(dims) else "finite"), 1.0, ratio
    fi, fo = c.fans.fan_in, c.fans.fan_out * c.fans.blocks
    base_in, base_out = _base_fans(c, b)
    m_in, m_out = fi / base_in, fo / base_out
    i_in = _fan_in_dim(c)
    if i_in is not None:  # the infinite flags of the dims this plan reads the fans from
        inf_in, inf_out = dims[i_in], dims[1 - i_in]
    else:
        inf_in = b.inf_in if b.inf_in is not None else abs(m_in - 1) > _TOL
        inf_out = b.inf_out if b.inf_out is not None else abs(m_out - 1) > _TOL
    if inf_in and inf_out:
        cls = "hidden"
    elif inf_out:
        cls = "input"
    elif inf_in:
        cls = "output"
    else:
        cls = "finite"
    if c.kind == "embedding" and cls == "output":
        cls = "input"  # an embedding table (vocab, d): its fan_in is the vocabulary
    return cls, float(m_in), float(m_out)


def _with_std(scheme: Scheme, res: Any, factor: float, extra: dict[str, Any]) -> Scheme:
    """The underlying scheme rescaled by ``factor``, with the μP facts attached."""
    if factor == 0:
        base = S.zeros()
    elif res.std is None or res.std == 0 or (factor == 1.0 and scheme.kind in ("normal",
                                                                             "uniform")):
        base = scheme
    elif res.bound is not None:
        base = S.uniform(bound=res.bound * factor)
    elif scheme.kind == "truncated_normal":
        base = S.truncated_normal(res.std * factor, scheme.get("lower", -2.0),
                                  scheme.get("upper", 2.0))
    else:
        base = S.normal(res.std * factor, res.mean or 0.0)
    params = dict(base.params)
    params.update(extra)
    return Scheme(base.kind, tuple(sorted(params.items())))


def mup_policy(c: ParamContext, m: ModelContext) -> tuple[Scheme, str]:
    """The per-parameter μP decision (registered as policy ``"mup"``)."""
    shapes = m.options.get("base")
    if not isinstance(shapes, BaseShapes):
        raise InitError(
            "policy 'mup' needs to know which dimensions grow with width: pass "
            "policy=initlab.mup.policy(factory=make_model, widths=(64, 128)) (or base=, delta=) "
            "instead of the bare name"
        )
    b = shapes.get(c.name)
    if b is None:
        raise InitError(f"mup: the base model has no parameter {c.name!r}; build it with the "
                        "same factory, changing only the width")
    under = get_policy(m.options.get("init", "auto"))
    cls, m_in, m_out = _classify(c, b)
    extra: dict[str, Any] = {"mup": cls, "mup_in": m_in, "mup_out": m_out}
    parent = c.module_name.rpartition(".")[0]
    heads = dict(shapes.head_dims)
    # an attention projection: by its traced role (SDPA seen), or, for transformers' attention
    # (eager included, where no SDPA call marks the roles), a weight of a module that keeps its
    # logit scale in a float ``scaling`` attribute
    hf_attn = c.fans is not None and isinstance(
        getattr(shapes.modules.get(parent), "scaling", None), float)
    if (c.role in _ATTN_ROLES or hf_attn) and (c.module_name in heads or parent in heads):
        extra["mup_head"] = heads.get(parent, heads.get(c.module_name))
        att = parent if parent in heads else c.module_name
        bs = getattr(shapes.modules.get(att), "scaling", None)
        if isinstance(bs, float):  # transformers' attention: its logit scale at the base width
            extra["mup_scaling"] = bs
    # the underlying policy's decision at the base shape: σ_base
    base_fans = None
    if c.fans is not None and b.fan_in is not None and b.fan_out is not None:
        from initlab.core.fans import Fans

        base_in, base_out = _base_fans(c, b)
        base_fans = Fans(base_in, base_out / c.fans.blocks, c.fans.blocks)
    base_module = shapes.modules.get(c.module_name, c.module)
    cb = replace(c, shape=b.shape, fans=base_fans, module=base_module)
    scheme, why = under(cb, m)
    if scheme.kind not in _IID and scheme.kind not in ("zeros", "ones", "constant"):
        # orthogonal, identity, gate constants, module defaults: not an i.i.d. draw whose std
        # can be rescaled; the underlying policy's choice at this width, said in the reason
        scheme, why = under(c, m)
        return Scheme(scheme.kind, tuple(sorted({**dict(scheme.params), **extra}.items()))), (
            f"μP {cls}: {why} (not an i.i.d. draw: not rescaled to μP; the lr table holds)")
    res = resolve(scheme, Target(b.shape, base_fans, c.activation, c.activation_params))
    src = "Yang et al. 2022, Table 3"
    if cls == "hidden":
        f, how = 1.0 / math.sqrt(m_in), f"std at base × 1/√m_in (m_in = {m_in:.4g})"
    elif cls == "output":
        if m.options.get("readout") == "zero":
            f, how = 0.0, "readout = 0 (App. D.2)"
        else:
            f, how = 1.0 / m_in, f"std at base × 1/m_in (m_in = {m_in:.4g}; Table 8's 1/fan_in " \
                                 "multiplier absorbed)"
    elif cls == "tied":
        f, how = 1.0, (f"std at base; as a readout it needs a 1/m_in = {1 / m_in:.4g} output "
                       "multiplier: apply initlab.mup.wrap(model, plan)")
    else:
        f, how = 1.0, "std at base (width-independent)"
    if m.options.get("zero_query") and c.role == "attn_q":
        f, how = 0.0, "query = 0 (App. D.2)"
    if "mup_head" in extra:
        how += "; attention logits need 1/d, not 1/√d: apply initlab.mup.wrap(model, plan)"
    return _with_std(scheme, res, f, extra), f"μP {cls}: {why}; {how} ({src})"


# ------------------------------------------------------------------ the table and the lrs --
@dataclass(frozen=True)
class MuRow:
    """One parameter's μP facts: class, width multipliers, init std, lr and forward multipliers.

    Attributes:
        name, shape: the parameter.
        cls: one of :data:`CLASSES` (``"sp"``: not planned by μP, lr multiplier 1).
        m_in, m_out: fan_in and fan_out at this width / at the base width.
        std: the std it is initialized with (None: not drawn by initlab).
        lr_mult: multiply the base learning rate by this (for the table's optimizer).
        wd_mult: multiply the base weight decay by this (decoupled decay: lr·wd width-free).
        multiplier: forward multiplier :func:`wrap` applies to its layer's output (tied readout).
        note: the reason, in words.
    """

    name: str
    shape: tuple[int, ...]
    cls: str
    m_in: float
    m_out: float
    std: float | None
    lr_mult: float
    wd_mult: float
    multiplier: float
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "class": self.cls,
                "m_in": self.m_in, "m_out": self.m_out, "std": self.std,
                "lr_mult": self.lr_mult, "wd_mult": self.wd_mult,
                "multiplier": self.multiplier, "note": self.note}


@dataclass(frozen=True)
class ForwardChange:
    """A change to the forward that μP needs and init/lr cannot absorb (see :func:`wrap`)."""

    kind: str  # "attention_scale" | "output_multiplier"
    module: str
    factor: float | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "module": self.module, "factor": self.factor,
                "text": self.text}


@dataclass(frozen=True)
class MuTable(Rendered):
    """The per-parameter learning-rate and multiplier table of a μP plan, for one optimizer.

    Examples:
        >>> import torch, initlab
        >>> from torch import nn
        >>> pol = policy(factory=lambda w: nn.Sequential(nn.Linear(4, w), nn.Linear(w, 2)),
        ...              widths=(8, 16))
        >>> p = initlab.plan(nn.Sequential(nn.Linear(4, 32), nn.Linear(32, 2)), policy=pol)
        >>> table(p, "sgd").rows[0].lr_mult  # input weight, SGD: η·m_out
        4.0
    """

    rows: tuple[MuRow, ...]
    optimizer: str
    forward_changes: tuple[ForwardChange, ...] = ()

    def __iter__(self) -> Iterator[MuRow]:
        return iter(self.rows)

    def __getitem__(self, name: str) -> MuRow:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"no μP row for {name!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer, "rows": [r.to_dict() for r in self.rows],
                "forward_changes": [f.to_dict() for f in self.forward_changes]}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def _lr_mult(cls: str, m_in: float, m_out: float, optimizer: str) -> float:
    if optimizer in ("adam", "adamw"):
        return 1.0 / m_in if cls in ("hidden", "output") else 1.0
    if cls in ("input", "vector"):
        return m_out
    if cls == "tied":  # vector-like in the width d (MuSGD: lr × width multiplier)
        return m_in
    if cls == "hidden":
        return m_out / m_in
    if cls == "output":
        return 1.0 / m_in
    return 1.0


def table(plan: Any, optimizer: str = "adam") -> MuTable:
    """The learning-rate and multiplier table of ``plan`` for ``optimizer`` (adam, adamw, sgd).

    Rows a μP policy did not decide (another policy's plan, or a rule that replaced the row)
    are class ``"sp"`` with multiplier 1.

    Raises:
        InitError: not an InitPlan, or an unknown optimizer.
    """
    from initlab.model.plan import InitPlan

    if not isinstance(plan, InitPlan):
        raise InitError(f"mup.table: plan must be an InitPlan (from initlab.init/plan), got "
                        f"{type(plan).__name__}")
    opt = _check_optimizer(optimizer)
    rows, changes, heads = [], [], {}
    for r in plan.rows:
        if r.tensor != "parameter":
            continue
        cls = r.scheme.get("mup")
        if cls is None:
            rows.append(MuRow(r.name, r.shape, "sp", 1.0, 1.0, r.std, 1.0, 1.0, 1.0,
                              "not planned by μP: base learning rate"))
            continue
        m_in, m_out = float(r.scheme.get("mup_in", 1.0)), float(r.scheme.get("mup_out", 1.0))
        lr = _lr_mult(cls, m_in, m_out, opt)
        mult = 1.0 / m_in if cls == "tied" else 1.0
        if cls == "tied":
            changes.append(ForwardChange(
                "output_multiplier", r.module, mult,
                f"the readout sharing {r.name} is multiplied by 1/m_in = {mult:.4g} "
                "(Table 8; tied to the embedding, so it cannot be absorbed in its init)"))
        if r.scheme.get("mup_head") is not None:
            key = r.module.rpartition(".")[0] or r.module
            heads[key] = (int(r.scheme.get("mup_head")), r.scheme.get("mup_scaling"))
        rows.append(MuRow(r.name, r.shape, cls, m_in, m_out, r.std, lr,
                          1.0 / lr if opt == "adamw" and lr > 0 else 1.0, mult, r.reason))
    for mod, (hd, bs) in sorted(heads.items()):
        how = (f"through its `scaling` attribute (base {float(bs):.4g} × d_base/d; eager and "
               "sdpa alike)" if bs is not None else
               "through every scaled_dot_product_attention call (hand-written attention is "
               "refused)")
        changes.append(ForwardChange(
            "attention_scale", mod, None,
            f"{mod or 'model'}: attention logits × √(d_base/d) (1/d instead of 1/√d, base head "
            f"dim {hd}), {how}; a no-op where the head dim does not grow"))
    return MuTable(tuple(rows), opt, tuple(changes))


def _check_optimizer(optimizer: str) -> str:
    opt = str(optimizer).lower()
    if opt not in OPTIMIZERS:
        raise InitError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r} "
                        "(Adam's rules hold for any Adam-like optimizer: adam, adamw)")
    return opt


def param_groups(
    model: nn.Module,
    plan: Any,
    lr: float,
    *,
    optimizer: str = "adam",
    weight_decay: float | None = None,
) -> list[dict[str, Any]]:
    """Ordinary ``torch.optim`` parameter groups with μP's per-parameter learning rates.

    Parameters with the same multipliers share a group; each group is a plain dict (``params``,
    ``lr``, ``weight_decay`` if given, and ``initlab_mup``: multiplier, classes and names, for
    the record), so any optimizer, ``optimizer.state_dict()``, ``torch.save`` and DDP keep
    it. A plan of another policy gives one group at ``lr``.

    Args:
        lr: the base learning rate (the one tuned at the base width).
        optimizer: ``adam`` / ``adamw`` (any Adam-like optimizer) or ``sgd``: μP's rules differ.
        weight_decay: base weight decay; for ``adamw`` (decoupled) it is divided by the lr
            multiplier so that lr·wd does not change with width (as ``mup.MuAdamW``).

    Raises:
        InitError: lr not a positive number, unknown optimizer, a plan row naming a parameter
            the model lacks, or a trainable parameter the plan does not cover.

    Examples:
        >>> import torch, initlab
        >>> from torch import nn
        >>> m = nn.Linear(4, 2)
        >>> g = initlab.param_groups(m, initlab.plan(m), lr=0.1)
        >>> [x["lr"] for x in g]
        [0.1]
    """
    try:
        ok = float(lr) > 0 and math.isfinite(float(lr))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InitError(f"param_groups: lr must be a positive number, got {lr!r}")
    t = table(plan, optimizer)
    from initlab.model.structure import unwrap

    params = dict(unwrap(model).named_parameters(remove_duplicate=False))
    groups: dict[tuple[str, float, float], dict[str, Any]] = {}
    seen: set[int] = set()
    for r in t.rows:
        p = params.get(r.name)
        if p is None:
            raise InitError(f"param_groups: the plan names {r.name!r} but the model has no such "
                            "parameter; build the plan from this model")
        if not p.requires_grad or id(p) in seen:
            continue
        seen.add(id(p))
        key = (r.lr_mult, r.wd_mult)
        g = groups.get(key)
        if g is None:
            g = {"params": [], "lr": float(lr) * r.lr_mult,
                 "initlab_mup": {"lr_mult": r.lr_mult, "classes": [], "names": []}}
            if weight_decay is not None:
                g["weight_decay"] = float(weight_decay) * r.wd_mult
            groups[key] = g
        g["params"].append(p)
        g["initlab_mup"]["names"].append(r.name)
        if r.cls not in g["initlab_mup"]["classes"]:
            g["initlab_mup"]["classes"].append(r.cls)
    missing = [n for n, p in params.items() if p.requires_grad and id(p) not in seen]
    if missing:
        raise InitError(f"param_groups: the plan does not cover {', '.join(missing[:4])}; build "
                        "the plan from this model")
    return list(groups.values())


# ------------------------------------------------------------------------------- forward --
class _AttentionScale(TorchFunctionMode):
    """Rewrites ``scaled_dot_product_attention``'s scale to μP's √d_base/d."""

    def __init__(self, base_head_dim: int) -> None:
        super().__init__()
        self.base = base_head_dim
        self.calls = 0

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = dict(kwargs or {})
        if func is torch.nn.functional.scaled_dot_product_attention:
            q = args[0] if args else kwargs["query"]
            d = q.size(-1)
            scale = kwargs.get("scale")
            if scale is None:
                scale = 1.0 / math.sqrt(d)
            kwargs["scale"] = scale * math.sqrt(self.base / d)
            self.calls += 1
        elif func is _F.multi_head_attention_forward:
            # a mode is off while its handler runs, and re-entering it recurses: the SDPA call
            # inside nn.MultiheadAttention (need_weights=False) is rescaled by swapping the
            # name it looks up in torch.nn.functional for the duration of this call
            sdpa = _F.scaled_dot_product_attention
            mode = self

            def scaled(q: torch.Tensor, *a: Any, **kw: Any) -> torch.Tensor:
                d = q.size(-1)
                kw["scale"] = (kw.get("scale") or 1.0 / math.sqrt(d)) * math.sqrt(mode.base / d)
                mode.calls += 1
                return sdpa(q, *a, **kw)

            _F.scaled_dot_product_attention = scaled
            try:
                return func(*args, **kwargs)
            finally:
                _F.scaled_dot_product_attention = sdpa
        return func(*args, **kwargs)


class MuWrapped(nn.Module):
    """A model whose forward runs with μP's forward changes (see :func:`wrap`). Its
    ``state_dict`` is the inner model's (keys prefixed ``model.``); ``.model`` is the model."""

    def __init__(self, model: nn.Module, changes: tuple[ForwardChange, ...],
                 head_dim: int | None,
                 scalings: tuple[tuple[nn.Module, float], ...] = ()) -> None:
        super().__init__()
        self.model = model
        self.changes = changes
        self._head_dim = head_dim
        self._scalings = scalings  # (attention module, its μP ``scaling``) for transformers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        with _scalings_set(self._scalings):
            if self._head_dim is None:
                return self.model(*args, **kwargs)
            mode = _AttentionScale(self._head_dim)
            with mode:
                out = self.model(*args, **kwargs)
            if mode.calls == 0:
                raise InitError(
                    "mup.wrap: the forward made no scaled_dot_product_attention call, so μP's "
                    "1/d attention scale could not be applied: the model computes attention by "
                    "hand (q @ kᵀ / √d, e.g. an 'eager' attention without a `scaling` "
                    "attribute); build it with SDPA (transformers: attn_implementation='sdpa') "
                    "or scale its logits by 1/d in its code")
            return out


@contextlib.contextmanager
def _scalings_set(pairs: tuple[tuple[nn.Module, float], ...]) -> Iterator[None]:
    old = [(m, m.scaling) for m, _ in pairs]
    try:
        for m, v in pairs:
            m.scaling = v
        yield
    finally:
        for m, v in old:
            m.scaling = v


def wrap(model: nn.Module, plan: Any) -> nn.Module:
    """Apply the forward changes μP needs and init/lr cannot absorb, without editing the
    model's code: attention logits 1/d (every ``F.scaled_dot_product_attention`` call in the
    forward gets ``scale × √(d_base/d)``) and the 1/m_in multiplier of a readout tied to the
    embedding (a forward hook on the readout). Returns ``model`` itself when nothing is needed.

    ``nn.MultiheadAttention`` called with ``need_weights=True`` computes its scale inside torch
    and is refused (call it with ``need_weights=False``, as ``nn.TransformerEncoderLayer`` does);
    attention written by hand (``q @ k.T / math.sqrt(d)``) cannot be reached: use
    ``F.scaled_dot_product_attention`` or scale by 1/d in the code.

    Raises:
        InitError: attention modules whose base head dims differ (one rewrite cannot serve both).

    Examples:
        >>> import torch, initlab
        >>> from torch import nn
        >>> m = nn.Linear(4, 2)
        >>> wrap(m, initlab.plan(m)) is m
        True
    """
    t = table(plan)
    heads, base_scaling = {}, {}
    for r in plan.rows:
        if r.scheme.get("mup_head") is not None:
            heads[r.module] = int(r.scheme.get("mup_head"))
            if r.scheme.get("mup_scaling") is not None:
                base_scaling[r.module] = float(r.scheme.get("mup_scaling"))
    modules = dict(model.named_modules())
    for ch in t.forward_changes:
        if ch.kind != "output_multiplier":
            continue
        target = _readout_module(plan, modules)
        factor = float(ch.factor or 1.0)
        if getattr(target, "_initlab_mup_mult", None) is None:
            target.register_forward_hook(_multiply_hook)
        target._initlab_mup_mult = factor  # type: ignore[assignment]
    for name, m in modules.items():
        if isinstance(m, nn.MultiheadAttention) and heads:
            m.register_forward_pre_hook(_mha_guard(name), with_kwargs=True)
    if not heads:
        return model
    # transformers' attention modules (GPT-2, Llama, ... since v4.48) keep the logit scale in a
    # float ``scaling`` attribute that every implementation (eager, sdpa, flash) reads: set it
    # to the base model's own scaling × d_base/d during the forward (μP's 1/d, equal to the
    # model at the base width, GPT-2's scale_attn_weights / scale_attn_by_inverse_layer_idx
    # kept). Other attention goes through the SDPA rewrite.
    scalings, rest = [], {}
    for rname, hd in heads.items():
        m = modules.get(rname)
        if not isinstance(getattr(m, "scaling", None), float):
            m = modules.get(rname.rpartition(".")[0])
        d = getattr(m, "head_dim", None)
        if (rname in base_scaling and isinstance(getattr(m, "scaling", None), float)
                and isinstance(d, int)):
            scalings.append((m, base_scaling[rname] * hd / d))
        else:
            rest[rname] = hd
    pairs = tuple({id(m): (m, v) for m, v in scalings}.values())
    dims = set(rest.values())
    if len(dims) > 1:
        raise InitError(f"mup.wrap: attention layers with different base head dims {sorted(dims)}"
                        "; wrap cannot rescale them with one rule")
    return MuWrapped(model, t.forward_changes, dims.pop() if dims else None, pairs)


def _readout_module(plan: Any, modules: dict[str, nn.Module]) -> nn.Module:
    for r in plan.rows:
        if r.scheme.get("mup") != "tied":
            continue
        for n in (r.name, *r.aliases):
            mod = modules.get(n.rpartition(".")[0])
            if mod is not None and not isinstance(mod, nn.Embedding | nn.EmbeddingBag):
                return mod
    raise InitError("mup.wrap: the tied readout module was not found in this model; pass the "
                    "model the plan was made from")


def _multiply_hook(module: nn.Module, args: Any, out: Any) -> Any:
    f = getattr(module, "_initlab_mup_mult", 1.0)
    return out * f if isinstance(out, torch.Tensor) else out


def _mha_guard(name: str) -> Callable[..., None]:
    def hook(module: nn.Module, args: Any, kwargs: dict[str, Any]) -> None:
        if kwargs.get("need_weights", True) and not (len(args) > 4 and args[4] is False):
            raise InitError(
                f"mup.wrap: {name} (nn.MultiheadAttention) was called with need_weights=True, "
                "where torch scales q by 1/√d internally and wrap cannot change it; call it with "
                "need_weights=False (nn.TransformerEncoderLayer does)")

    return hook


@contextlib.contextmanager
def attention_scale(base_head_dim: int) -> Iterator[None]:
    """A context in which every ``F.scaled_dot_product_attention`` uses μP's √d_base/d scale.

    Examples:
        >>> import torch
        >>> q = torch.ones(1, 1, 2, 16)
        >>> with attention_scale(4):
        ...     y = torch.nn.functional.scaled_dot_product_attention(q, q, q)
    """
    with _AttentionScale(int(base_head_dim)):
        yield


__all__ = [
    "CLASSES",
    "OPTIMIZERS",
    "BaseShape",
    "BaseShapes",
    "ForwardChange",
    "MuPolicy",
    "MuRow",
    "MuTable",
    "MuWrapped",
    "attention_scale",
    "base_shapes",
    "mup_policy",
    "param_groups",
    "policy",
    "table",
    "wrap",
]
