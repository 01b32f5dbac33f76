"""The initialization plan: one row per parameter, decided before anything is written.

``initlab.plan(model, example_input)`` discovers the model's structure (one traced forward pass,
meta device), lets a policy pick a scheme per parameter, resolves each scheme into numbers (fans,
gain, std or bound), applies the user's rules, and marks what must not be written (frozen,
pretrained, skipped). The :class:`InitPlan` is data: print it, serialize it, edit it, and give it
to :func:`initlab.apply_plan`.

Examples:
    >>> import torch, initlab
    >>> from torch import nn
    >>> m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> p = initlab.plan(m, torch.randn(4, 8))
    >>> p["0.weight"].scheme.kind, round(p["0.weight"].std * 8 ** 0.5, 4)
    ('he', 1.4142)
"""

from __future__ import annotations

import fnmatch
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn

from initlab.core.fans import Fans, fans, fans_of
from initlab.errors import InitError
from initlab.model import specs as S
from initlab.model.own_init import META_FROZEN, UNINITIALIZED, _hf_root, own_init_method
from initlab.model.policies import (
    ModelContext,
    ParamContext,
    Policy,
    get_policy,
    make_policy,
    torch_default,
)
from initlab.model.specs import Scheme, Target, resolve
from initlab.model.structure import LayerInfo, Structure, discover, layer_kind, unwrap
from initlab.views import render

PRETRAINED_ATTR = "_initlab_pretrained"
STATUSES = ("init", "kept", "frozen", "pretrained", "skipped")

Rule = tuple[Any, Scheme | str]


@dataclass(frozen=True)
class PlanRow:
    """The decision for one parameter (or buffer).

    Attributes:
        name: parameter name (for tied parameters, the smallest of its names).
        shape: its shape.
        role: what it is for (embedding, attn_qkv, mlp_in, norm, bias, recurrent_hh, ...).
        scheme: the scheme that writes it.
        fan_in, fan_out: its fans (per block for packed weights; None for vectors).
        gain: the gain used (None where none applies).
        std: std of the written values (rms for orthogonal, 0 for constants, None when initlab
            does not draw the values itself).
        bound: the uniform bound (None unless uniform).
        reason: why this scheme (policy, rule, or why it is not written).
        status: ``init`` (written), ``kept`` (left as is: unknown layout or ``keep``),
            ``frozen`` (requires_grad=False), ``pretrained`` (``mark_pretrained``) or
            ``skipped`` (``skip=`` pattern). Only ``init`` rows are written.
        mean: mean of the written values (the value, for constants).
        module: owning module path; module_type: its class name; module_types: the qualified
            names of its classes (rules by type match these).
        kind: the module's family (linear, conv, norm, ...).
        activation, activation_params, glu: what follows the layer.
        blocks: blocks of a packed weight along its output axis (3 q/k/v, 4 LSTM gates).
        out_axis: the axis that indexes outputs (0 in torch's layout, 1 for a weight the
            forward uses as ``x @ W``, such as GPT-2's ``Conv1D``).
        elementwise: values are i.i.d. per element and generated in blocks of the flattened
            index space (a shard can produce its own part); False: the scheme needs the whole
            matrix (orthogonal).
        call: the :mod:`initlab.core` function and keyword arguments that write it.
        aliases: other names of the same tensor (tied weights); it is written once.
        tensor: ``"parameter"`` or ``"buffer"``.
        default_scheme: the module's own default (used by a ``"default"`` rule).
        zero_rows: rows set to 0 after drawing (an Embedding's ``padding_idx``).
    """

    name: str
    shape: tuple[int, ...]
    role: str
    scheme: Scheme
    fan_in: float | None
    fan_out: float | None
    gain: float | None
    std: float | None
    bound: float | None
    reason: str
    status: str = "init"
    mean: float | None = 0.0
    module: str = ""
    module_type: str = ""
    module_types: tuple[str, ...] = ()
    kind: str = ""
    activation: str = "linear"
    activation_params: dict[str, Any] = field(default_factory=dict)
    glu: str | None = None
    blocks: int = 1
    elementwise: bool = True
    call: tuple[str, dict[str, Any]] = ("keep", {})
    aliases: tuple[str, ...] = ()
    tensor: str = "parameter"
    default_scheme: Scheme | None = None
    zero_rows: tuple[int, ...] = ()
    groups: int = 1
    out_axis: int = 0

    @property
    def written(self) -> bool:
        """Will :func:`apply_plan` write this row?"""
        return self.status == "init" and self.scheme.kind != "keep"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "role": self.role,
            "scheme": self.scheme.to_dict(),
            "scheme_str": str(self.scheme),
            "fan_in": self.fan_in,
            "fan_out": self.fan_out,
            "gain": self.gain,
            "std": self.std,
            "bound": self.bound,
            "reason": self.reason,
            "status": self.status,
            "mean": self.mean,
            "module": self.module,
            "module_type": self.module_type,
            "module_types": list(self.module_types),
            "kind": self.kind,
            "activation": self.activation,
            "activation_params": dict(self.activation_params),
            "glu": self.glu,
            "blocks": self.blocks,
            "elementwise": self.elementwise,
            "call": [self.call[0], _jsonable(self.call[1])],
            "aliases": list(self.aliases),
            "tensor": self.tensor,
            "default_scheme": self.default_scheme.to_dict() if self.default_scheme else None,
            "zero_rows": list(self.zero_rows),
            "groups": self.groups,
            "out_axis": self.out_axis,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PlanRow:
        ds = d.get("default_scheme")
        return cls(
            name=d["name"],
            shape=tuple(d["shape"]),
            role=d["role"],
            scheme=Scheme.from_dict(d["scheme"]),
            fan_in=d.get("fan_in"),
            fan_out=d.get("fan_out"),
            gain=d.get("gain"),
            std=d.get("std"),
            bound=d.get("bound"),
            reason=d.get("reason", ""),
            status=d.get("status", "init"),
            mean=d.get("mean"),
            module=d.get("module", ""),
            module_type=d.get("module_type", ""),
            module_types=tuple(d.get("module_types", ())),
            kind=d.get("kind", ""),
            activation=d.get("activation", "linear"),
            activation_params=dict(d.get("activation_params", {})),
            glu=d.get("glu"),
            blocks=int(d.get("blocks", 1)),
            elementwise=bool(d.get("elementwise", True)),
            call=(d["call"][0], dict(d["call"][1])),
            aliases=tuple(d.get("aliases", ())),
            tensor=d.get("tensor", "parameter"),
            default_scheme=Scheme.from_dict(ds) if ds else None,
            zero_rows=tuple(d.get("zero_rows", ())),
            out_axis=int(d.get("out_axis", 0)),
            groups=int(d.get("groups", 1)),
        )


def _jsonable(kw: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()}


@dataclass(frozen=True)
class InitPlan:
    """What :func:`initlab.apply_plan` will write: one :class:`PlanRow` per parameter.

    Attributes:
        rows: the rows, in the model's parameter order (buffers last).
        policy: the policy that made the decisions.
        warnings: things the user should look at (kept parameters, untraced layers...).
        model: the model's class name.
        note: how structure discovery went.

    Examples:
        >>> import torch, initlab
        >>> from torch import nn
        >>> p = initlab.plan(nn.Linear(4, 2), torch.randn(1, 4), policy="xavier")
        >>> [r.name for r in p]
        ['weight', 'bias']
        >>> InitPlan.from_json(p.to_json()) == p
        True
    """

    rows: tuple[PlanRow, ...]
    policy: str
    warnings: tuple[str, ...] = ()
    model: str = ""
    note: str = ""

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[PlanRow]:
        return iter(self.rows)

    def __getitem__(self, name: str) -> PlanRow:
        for r in self.rows:
            if r.name == name or name in r.aliases:
                return r
        raise KeyError(f"no plan row for {name!r}")

    @property
    def written(self) -> tuple[PlanRow, ...]:
        """The rows that will be written."""
        return tuple(r for r in self.rows if r.written)

    def summary(self) -> dict[str, int]:
        """Row counts by status, and the number of elements written."""
        out: dict[str, int] = {s: 0 for s in STATUSES}
        for r in self.rows:
            out[r.status] = out.get(r.status, 0) + 1
        out["elements_written"] = sum(math.prod(r.shape) for r in self.written)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "model": self.model,
            "note": self.note,
            "warnings": list(self.warnings),
            "summary": self.summary(),
            "rows": [r.to_dict() for r in self.rows],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> InitPlan:
        """Rebuild a plan written by :meth:`to_json`.

        Raises:
            InitError: not a plan (the message says what is missing).
        """
        try:
            d = json.loads(text)
            return cls(
                rows=tuple(PlanRow.from_dict(r) for r in d["rows"]),
                policy=d["policy"],
                warnings=tuple(d.get("warnings", ())),
                model=d.get("model", ""),
                note=d.get("note", ""),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise InitError(
                f"InitPlan.from_json: not an initlab plan ({type(e).__name__}: {e}); pass the "
                "text written by InitPlan.to_json()"
            ) from None

    def with_rules(self, rules: Sequence[Rule]) -> InitPlan:
        """A new plan with ``rules`` applied in order (later rules win).

        Each rule is ``(pattern, scheme)``: the pattern is a glob on parameter names
        (``"*.c_proj.weight"``) or a module class (``nn.LayerNorm``: every parameter owned by
        one); the scheme an :mod:`initlab.schemes` value or a name (``"default"``, ``"keep"``,
        ``"zeros"``, ``"xavier"``...).

        Raises:
            InitError: a rule that matches no parameter, or a malformed rule.
        """
        rows = list(self.rows)
        for i, rule in enumerate(rules):
            try:
                pattern, spec = rule
            except (TypeError, ValueError):
                raise InitError(
                    f"rules[{i}]: expected a (pattern, scheme) pair, got {rule!r}; e.g. "
                    "('*.c_proj.weight', initlab.schemes.normal(std=0.002))"
                ) from None
            scheme = S.parse(spec)
            hits = [j for j, r in enumerate(rows) if _matches(pattern, r)]
            if not hits:
                names = ", ".join(r.name for r in rows[:4])
                raise InitError(
                    f"rules[{i}]: pattern {_pattern_str(pattern)} matches no parameter; names "
                    f"look like {names}, ... (globs match the full dotted name)"
                )
            for j in hits:
                rows[j] = rerow(rows[j], scheme, f"rule {_pattern_str(pattern)}: {scheme}")
        return replace(self, rows=tuple(rows), warnings=_kept_warnings(rows, self.warnings))

    def replace_row(self, name: str, scheme: Scheme | str) -> InitPlan:
        """A new plan where parameter ``name`` gets ``scheme``."""
        return self.with_rules([(name, scheme)])

    # -- presentation: drawn by report/plan_table.py (registered in initlab.views) ----------
    def __rich_console__(self, console: Any, options: Any) -> Any:
        yield render(self, "rich", options.max_width)

    def __str__(self) -> str:
        return str(render(self, "text"))

    def __repr__(self) -> str:
        """One line (a REPL shows this): the counts; ``print(plan)`` for the table."""
        s = self.summary()
        return (f"InitPlan(model={self.model!r}, policy={self.policy!r}, {len(self.rows)} rows: "
                f"{s['init']} written, {s['kept']} kept; {len(self.warnings)} warning(s); "
                "print() it for the table)")


def _pattern_str(p: Any) -> str:
    return p.__name__ if isinstance(p, type) else repr(p)


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _matches(pattern: Any, r: PlanRow) -> bool:
    if isinstance(pattern, type):
        return _qualname(pattern) in r.module_types
    if isinstance(pattern, str):
        return any(fnmatch.fnmatchcase(n, pattern) for n in (r.name, *r.aliases))
    raise InitError(
        f"rule pattern {pattern!r}: expected a glob string on parameter names or an nn.Module "
        "class"
    )


def rerow(r: PlanRow, scheme: Scheme, reason: str) -> PlanRow:
    """``r`` with a new scheme, its numbers recomputed.

    Examples:
        >>> import initlab
        >>> r = initlab.plan(nn.Linear(16, 4), torch.randn(1, 16), policy="he")["weight"]
        >>> rerow(r, initlab.schemes.normal(0.02), "rule").std
        0.02
    """
    if scheme.kind == "default":
        if r.default_scheme is not None:
            scheme = r.default_scheme
            reason += f" → {scheme}"
        else:
            scheme = Scheme("keep")
            reason += " → the module has no known default: kept"
    f = Fans(r.fan_in, r.fan_out, r.blocks) if r.fan_in is not None else None
    target = Target(r.shape, f, _eff_act(r.activation, r.glu), dict(r.activation_params), r.groups,
                    r.out_axis)  # fmt: skip
    res = resolve(scheme, target)
    status = r.status
    if status in ("init", "kept"):
        status = "kept" if scheme.kind == "keep" else "init"
    return replace(
        r,
        scheme=scheme,
        gain=res.gain,
        std=res.std,
        mean=res.mean,
        bound=res.bound,
        call=res.call,
        elementwise=res.elementwise,
        reason=reason,
        status=status,
    )


def _eff_act(act: str, glu: str | None) -> str:
    return "linear" if glu == "gate" else act


def _kept_warnings(rows: Iterable[PlanRow], old: tuple[str, ...]) -> tuple[str, ...]:
    kept = [r.name for r in rows if r.status == "kept"
            and ("unknown layout" in r.reason or "no rule covers" in r.reason)]  # fmt: skip
    base = tuple(w for w in old if not w.startswith("kept (unknown layout"))
    if kept:
        shown = ", ".join(kept[:6]) + (", ..." if len(kept) > 6 else "")
        base = (f"kept (unknown layout; add a rule): {shown}", *base)
    return base


# ------------------------------------------------------------------------------ building -----
_MHA_LOCAL = {
    "in_proj_weight": "attn_qkv",
    "q_proj_weight": "attn_q",
    "k_proj_weight": "attn_k",
    "v_proj_weight": "attn_v",
    "out_proj.weight": "attn_out",
    "bias_k": "attn_bias",
    "bias_v": "attn_bias",
}


def _split(name: str) -> tuple[str, str]:
    return (name.rsplit(".", 1)[0], name.rsplit(".", 1)[1]) if "." in name else ("", name)


def under_pretrained(modules: dict[str, nn.Module], module_name: str) -> bool:
    """Is ``module_name`` or a module above it marked pretrained (``mark_pretrained``)?

    Examples:
        >>> import initlab
        >>> m = nn.Sequential(nn.Sequential(nn.Linear(2, 2)), nn.Linear(2, 2))
        >>> _ = initlab.mark_pretrained(m[0])
        >>> modules = dict(m.named_modules())
        >>> under_pretrained(modules, "0.0"), under_pretrained(modules, "1")
        (True, False)
    """
    parts = module_name.split(".") if module_name else []
    for i in range(len(parts) + 1):
        m = modules.get(".".join(parts[:i]))
        if m is not None and getattr(m, PRETRAINED_ATTR, False):
            return True
    return False


def _param_fans(kind: str, owner: nn.Module, local: str, p: torch.Tensor) -> Fans | None:
    if p.dim() < 2:
        return None
    try:
        if kind == "attention":
            if local == "in_proj_weight":
                return fans(p, blocks=3)
            return fans(p)
        if isinstance(owner, nn.modules.conv._ConvNd | nn.Linear | nn.Embedding | nn.EmbeddingBag
                      | nn.Bilinear | nn.RNNBase | nn.RNNCellBase):  # fmt: skip
            return fans_of(owner, local)
        layout = {"conv_transpose": "conv_transpose", "embedding": "embedding"}.get(kind, "auto")
        return fans(p, layout)  # type: ignore[arg-type]
    except InitError:
        return None


def _mro_names(m: nn.Module) -> tuple[str, ...]:
    return tuple(
        _qualname(c) for c in type(m).__mro__ if c not in (object, nn.Module)
    )


def plan(
    model: nn.Module,
    example_input: Any = None,
    policy: str | Policy = "auto",
    rules: Sequence[Rule] | None = None,
    *,
    skip: Sequence[Any] = (),
    overwrite: bool = False,
    structure: Structure | None = None,
) -> InitPlan:
    """Decide, per parameter, how to initialize ``model``; write nothing.

    One forward pass on the meta device finds each layer's activation, residual branch ends and
    output layers; the policy picks a scheme per parameter; ``rules`` override it. Stages:
    :func:`_walk` (structure, tied tensors, model facts), :func:`_param_row` per parameter
    (role → context → policy → numbers → safety), :func:`_plan_warnings`, then the rules.

    Args:
        model: the model (DataParallel/DDP wrappers are looked through).
        example_input: what ``model(...)`` takes (tensor, tuple of args, dict of kwargs); only
            shapes and dtypes matter. ``None``: no trace (every layer treated as linear).
        policy: one of ``auto``, ``torch``, ``xavier``, ``he``, ``lecun``, ``orthogonal``,
            ``gpt2``, ``fixup``, ``zero_residual``, ``delta_orthogonal``, ``critical``
            (see :mod:`initlab.model.policies` for each one's source); with options, an
            :mod:`initlab.policies` value such as ``initlab.policies.critical(sigma_b2=0.05)``
            or the same as a string, ``"critical(sigma_b2=0.05)"``.
        rules: ``[(pattern, scheme), ...]``: glob on names or module class → an
            :mod:`initlab.schemes` value or a name such as ``"default"``.
        skip: globs or module classes never to write (unless ``overwrite=True``); each must
            match something.
        overwrite: also write frozen (requires_grad=False), pretrained and skipped parameters.
        structure: a :class:`Structure` already discovered for this model (skips the trace).

    Returns:
        An :class:`InitPlan`.

    Raises:
        InitError: unknown policy or policy option, a rule or ``skip`` pattern matching
            nothing, a forward that fails on the input.

    Examples:
        >>> import torch, initlab
        >>> from torch import nn
        >>> m = nn.Sequential(nn.Linear(4, 4), nn.SELU(), nn.Linear(4, 1))
        >>> p = initlab.plan(m, torch.randn(2, 4))
        >>> p["0.weight"].scheme.kind
        'lecun'
    """
    pol = make_policy(policy)
    model = unwrap(model)
    if isinstance(skip, str | type):
        skip = [skip]  # one pattern, not its characters
    if skip:
        _check_skip(model, skip)
    st = structure if structure is not None else discover(model, example_input)
    w = _walk(model, st, pol, skip, overwrite)
    rows = [_param_row(w, names, w.tensors[key]) for key, names in w.groups.items()]
    rows.extend(_buffer_rows(model, w.modules, skip, overwrite))
    out = InitPlan(
        rows=tuple(rows),
        policy=str(pol),
        warnings=_kept_warnings(rows, _plan_warnings(w, pol)),
        model=type(model).__name__,
        note=st.note if st.traced else "not traced",
    )
    return out.with_rules(rules) if rules else out


build_plan = plan  # the name model/apply.py used before plan and build_plan were one function


@dataclass(frozen=True)
class _Walk:
    """What every parameter's decision reads: the structure, the modules, tied-tensor groups
    (id → names), the policy and the model-level facts."""

    st: Structure
    modules: dict[str, nn.Module]
    groups: dict[int, list[str]]
    tensors: dict[int, torch.Tensor]
    branch_of: dict[str, tuple[str, ...]]
    policy_fn: Any
    mctx: ModelContext
    skip: Sequence[Any]
    overwrite: bool
    hf: bool  # the model has a Hugging Face _init_weights root (own_init_method)

    def owner_of(self, name: str) -> tuple[str, str, nn.Module]:
        """(module path, local name, owner) of a parameter; MHA's out_proj belongs to the MHA."""
        mod_name, local = _split(name)
        parent_name, child = _split(mod_name) if mod_name else ("", "")
        parent = self.modules.get(parent_name) if mod_name else None
        if isinstance(parent, nn.MultiheadAttention) and child == "out_proj":
            return parent_name, f"out_proj.{local}", parent
        return mod_name, local, self.modules[mod_name]


def _walk(
    model: nn.Module, st: Structure, pol: Policy, skip: Sequence[Any], overwrite: bool
) -> _Walk:
    """Stage 1: unique tensors (tied parameters are one group), residual branches, the
    :class:`ModelContext` the policy reads."""
    groups: dict[int, list[str]] = {}
    tensors: dict[int, torch.Tensor] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        groups.setdefault(id(p), []).append(name)
        tensors[id(p)] = p
    infos = st.layers
    branch_of: dict[str, tuple[str, ...]] = {}
    for end in st.residual_ends:
        for m in infos[end].branch_layers:
            branch_of.setdefault(m, infos[end].branch_layers)
    cfg = getattr(model, "config", None)
    n_layer = getattr(cfg, "n_layer", None) or max(1, len(st.residual_ends) // 2)
    all_names = [n for names in groups.values() for n in names]
    mctx = ModelContext(
        n_residual=len(st.residual_ends),
        n_layer=int(n_layer),
        has_c_proj=any(n.endswith("c_proj.weight") for n in all_names),
        has_scalars=bool(st.scalars),
        zero_gamma_norms=frozenset(  # type: ignore[arg-type]
            infos[e].branch_norm for e in st.residual_ends if infos[e].branch_norm
        ),
        ends_without_norm=frozenset(e for e in st.residual_ends if not infos[e].branch_norm),
        n_conv=sum(1 for i in infos.values() if i.kind == "conv"),
        options=dict(pol.options),
    )
    w = _Walk(st, dict(model.named_modules()), groups, tensors, branch_of,
              get_policy(pol.name), mctx, skip, overwrite, _hf_root(model) is not None)  # fmt: skip
    tied = any(_tied_use(names, infos, w.owner_of) for names in groups.values())
    return replace(w, mctx=replace(mctx, tied_embedding=tied))


def _tied_use(names: list[str], infos: dict[str, LayerInfo], owner_of: Any) -> bool:
    """One tensor used as an input embedding and as an output layer (a tied LM head)."""
    if len(names) < 2:
        return False
    kinds = [layer_kind(owner_of(n)[2]) for n in names]
    outs = [bool((i := infos.get(owner_of(n)[0])) and i.is_output) for n in names]
    return "embedding" in kinds and any(outs)


def _used_fans(
    st: Structure, name: str, p: torch.Tensor, role: str, f: Fans | None, tied: bool
) -> Fans | None:
    """Fans from how the forward consumes the weight: a transposed or functional layout, one
    expert's matrix, packed q/k/v per block, and a tied embedding by its head use."""
    if tied and p.dim() == 2:
        return Fans(int(p.shape[1]), int(p.shape[0]))  # logits = h @ Eᵀ: fan_in = d_model
    used = st.fans_of(name, tuple(p.shape))
    if used is not None:
        fi, fo = used
        if role == "attn_qkv" and fo % 3 == 0:
            return Fans(fi, fo // 3, blocks=3)  # packed q/k/v along the output axis
        return Fans(fi, fo)
    if role == "attn_qkv" and f is not None and p.dim() >= 2 and p.shape[0] % 3 == 0:
        return fans(p, blocks=3)  # a packed q/k/v Linear (nanoGPT's c_attn): fans per block
    return f


def _out_axis(st: Structure, name: str, shape: tuple[int, ...]) -> int:
    """The axis of a matrix weight that indexes outputs, read off how the forward uses it: 1 for
    ``x @ W`` (GPT-2's ``Conv1D``), else 0 (torch's layout)."""
    use = st.layouts.get(name)
    if use is None or len(shape) != 2 or use.batch_axes or len(use.out_axes) != 1:
        return 0
    return int(use.out_axes[0])


_WEIGHT_LOCALS = ("weight", "in_proj_weight", "q_proj_weight", "k_proj_weight",
                  "v_proj_weight", "out_proj.weight")  # fmt: skip
_WEIGHT_KINDS = ("linear", "conv", "conv_transpose", "embedding", "bilinear")


def _role_of(
    kind: str, local: str, p: torch.Tensor, scalar: str | None, info: LayerInfo | None,
    is_weight: bool,
) -> str:
    """What a parameter is for: scalar, norm, attention part, recurrent part, bias, or the
    layer's role (classifier, residual_out, mlp_in...)."""
    if scalar:
        return scalar
    if kind == "norm":
        return "norm"
    if kind == "attention":
        return _MHA_LOCAL.get(local, "bias")
    if kind == "recurrent":
        for prefix, role in (("weight_ih", "recurrent_ih"), ("weight_hh", "recurrent_hh"),
                             ("weight_hr", "recurrent_proj")):  # fmt: skip
            if local.startswith(prefix):
                return role
        return "bias"
    if not is_weight and "bias" in local and kind != "custom":
        return "bias"
    if info is not None and is_weight:
        return info.role
    return "custom" if kind == "custom" else ("bias" if p.dim() <= 1 else kind)


def _param_context(w: _Walk, names: list[str], p: torch.Tensor) -> ParamContext:
    """Stage 2a: everything the policy may look at for one (possibly tied) parameter."""
    st, infos = w.st, w.st.layers
    canonical = min(names)
    tied = _tied_use(names, infos, w.owner_of)
    # tied weights: one decision by use (the input embedding's module), not by name order
    primary = next((n for n in sorted(names) if tied and layer_kind(w.owner_of(n)[2])
                    == "embedding"), canonical)  # fmt: skip
    mod_name, local, owner = w.owner_of(primary)
    info: LayerInfo | None = infos.get(canonical) or infos.get(mod_name)
    kind = info.kind if info else layer_kind(owner)
    if layer_kind(owner) == "custom" and kind != "custom" and canonical not in st.recognized:
        kind = "custom"  # a custom layer's extra parameter: not consumed by the layer op
    scalar = next((st.scalars[n] for n in names if n in st.scalars), None)
    is_weight = p.dim() >= 2 and (
        local in _WEIGHT_LOCALS or local.startswith("weight_") or kind in _WEIGHT_KINDS
    )
    role = st.param_roles.get(canonical, (_role_of(kind, local, p, scalar, info, is_weight),))[0]
    f = _param_fans(kind, owner, local, p) if (is_weight or kind == "custom") else None
    f = _used_fans(st, canonical, p, role, f, tied)
    glu = info.glu if info else None
    alias_infos = [infos.get(w.owner_of(n)[0]) for n in names]
    tied_output = len(names) > 1 and any(i is not None and i.is_output for i in alias_infos) \
        and any(i is not None and i.kind == "embedding" for i in alias_infos)
    return ParamContext(
        name=canonical,
        local=local,
        shape=tuple(p.shape),
        module=owner,
        module_name=mod_name,
        kind=kind,
        role=role,
        fans=f,
        activation=_eff_act(info.activation if info else "linear", glu),
        activation_params=dict(info.activation_params) if info and glu != "gate" else {},
        glu=glu,
        residual_end=bool(info and info.residual_end and is_weight
                          and (kind != "attention" or local == "out_proj.weight")),
        is_output=bool(info and info.is_output),
        tied_output=tied_output or tied,
        part=st.recognized.get(canonical),
        note=st.param_roles.get(canonical, ("", ""))[1],
        is_weight=is_weight,
        scalar=scalar,
        branch_len=len(w.branch_of.get(mod_name, ())),
        in_branch=mod_name in w.branch_of,
        attn_logits=_unscaled_attention(st, mod_name, is_weight),
    )  # fmt: skip


def _unscaled_attention(st: Structure, module: str, is_weight: bool) -> tuple[int, float] | None:
    """(d_head, logit scale) of the attention without 1/√d_head that ``module``'s output is
    the query of, or None (see :mod:`initlab.model.attn_scale`)."""
    a = st.attn_scales.get(module)
    return (a.d_head, a.scale) if is_weight and a is not None and a.unscaled else None


def _param_row(w: _Walk, names: list[str], p: torch.Tensor) -> PlanRow:
    """Stage 2: one parameter's row: context → policy → default → numbers → safety."""
    ctx = _param_context(w, names, p)
    owner, info = ctx.module, w.st.layers.get(ctx.module_name)
    scheme, reason = w.policy_fn(ctx, w.mctx)
    dflt = torch_default(ctx)
    model = w.modules[""]
    how = own_init_method(model, ctx.module_name, modules=w.modules, hf=w.hf)
    default_scheme = dflt[0] if dflt else (Scheme("module_default") if how else None)
    if scheme.kind == "default":
        scheme, reason = _default_or_keep(default_scheme, reason, p, how)
    if info is not None and info.calls == 0 and info.kind != "custom" and w.st.traced:
        reason += " (layer not called in the traced forward)"
    zero_rows: tuple[int, ...] = ()
    pad = getattr(owner, "padding_idx", None)
    if isinstance(owner, nn.Embedding) and pad is not None and ctx.local == "weight":
        zero_rows = (int(pad) % p.shape[0],)
        reason += f"; padding_idx row {pad} = 0"
    groups = getattr(owner, "groups", 1)
    target = Target(ctx.shape, ctx.fans, ctx.activation, ctx.activation_params,
                    groups if isinstance(groups, int) else 1,
                    _out_axis(w.st, ctx.name, ctx.shape))  # fmt: skip
    res = resolve(scheme, target)
    status = "kept" if scheme.kind == "keep" else "init"
    safety = _safety(names, p, ctx.module_name, w.modules, w.skip, owner)
    if safety and safety[0] == "frozen" and p.is_meta and how:
        # nothing to keep on the meta device: a frozen table (sinusoidal positions) gets the
        # values its model's own init gives it
        scheme, status, reason = Scheme("module_default"), "frozen", f"frozen; {META_FROZEN}"
        res, safety = resolve(scheme, target), None
    if safety and status == "init":
        if w.overwrite:
            reason += f" (overwrite=True: {safety[1]})"
        else:
            status, reason = safety[0], f"not written: {safety[1]}; pass overwrite=True"
    f = ctx.fans
    return PlanRow(
        name=ctx.name, shape=ctx.shape, role=ctx.role, scheme=scheme,
        fan_in=f.fan_in if f else None, fan_out=f.fan_out if f else None,
        gain=res.gain, std=res.std, bound=res.bound, reason=reason, status=status,
        mean=res.mean, module=ctx.module_name, module_type=type(owner).__name__,
        module_types=_mro_names(owner), kind=ctx.kind, activation=ctx.activation,
        activation_params=ctx.activation_params, glu=ctx.glu, blocks=f.blocks if f else 1,
        elementwise=res.elementwise, call=res.call,
        aliases=tuple(sorted(n for n in names if n != ctx.name)),
        default_scheme=default_scheme, zero_rows=zero_rows, groups=target.groups,
        out_axis=target.out_axis,
    )  # fmt: skip


def _default_or_keep(
    default_scheme: Scheme | None, reason: str, p: torch.Tensor, how: str | None
) -> tuple[Scheme, str]:
    """A ``default`` decision: the module's own init (re-run seeded by name), or kept with a
    reason that says what is missing (and that the memory is empty on the meta device)."""
    scheme = default_scheme or Scheme("keep")
    if scheme.kind == "keep" and reason.startswith("no rule covers"):
        reason = ("kept: unknown layout, no rule covers it and its module has no own init to "
                  "re-run; add a rule")  # fmt: skip
    if scheme.kind == "keep" and p.is_meta:
        reason += f"; {UNINITIALIZED}"
    elif scheme.kind == "module_default":
        reason += f" (re-run: {how}, seeded by name)"
    return scheme, reason


def _plan_warnings(w: _Walk, pol: Policy) -> tuple[str, ...]:
    """Stage 3: what the user should look at: untraced model, layers never called, Fixup's
    missing parts."""
    st, infos = w.st, w.st.layers
    warnings: list[str] = [st.note] if (st.note or not st.traced) else []
    never = [n for n, i in infos.items() if i.calls == 0 and i.kind not in ("custom",)
             and st.traced and not _is_mha_child(n, w.modules)]  # fmt: skip
    if never:
        warnings.append(
            "not called in the traced forward (activation unknown, assumed linear): "
            + ", ".join(never[:6]) + (", ..." if len(never) > 6 else "")
        )
    if pol.name == "fixup":
        if not st.scalars:
            warnings.append(
                "Fixup's scalar multiplier and biases (Zhang et al. 2019, rule 3) are not in this "
                "model: only rules 1-2 were applied; add nn.Parameter(torch.zeros(1)) biases "
                "before each conv/activation and a nn.Parameter(torch.ones(1)) multiplier per "
                "branch to follow the paper"
            )
        if any(i.kind == "norm" for i in infos.values()):
            warnings.append(
                "the model has normalization layers: Fixup is meant to replace them "
                "(Zhang et al. 2019); consider policy='zero_residual'"
            )
    return tuple(warnings)


def _check_skip(model: nn.Module, skip: Sequence[Any]) -> None:
    """Every ``skip=`` pattern must match a parameter or buffer: a typo would otherwise let
    ``init`` overwrite what the user meant to protect."""
    names = [n for n, _ in model.named_parameters(remove_duplicate=False)]
    names += [n for n, _ in model.named_buffers(remove_duplicate=False)]
    mods = list(model.modules())
    for i, pat in enumerate(skip):
        if isinstance(pat, type):
            hit = any(isinstance(m, pat) for m in mods)
        elif isinstance(pat, str):
            hit = any(fnmatch.fnmatchcase(n, pat) for n in names)
        else:
            raise InitError(
                f"skip[{i}]: expected a glob on parameter names or an nn.Module class, got "
                f"{pat!r}"
            )
        if not hit:
            shown = ", ".join(names[:4])
            raise InitError(
                f"skip[{i}]: pattern {_pattern_str(pat)} matches no parameter or module; names "
                f"look like {shown}, ... (globs match the full dotted name); fix the pattern, "
                "or the parameters it was meant to protect will be written"
            )


def _is_mha_child(name: str, modules: dict[str, nn.Module]) -> bool:
    parent, _ = _split(name)
    return isinstance(modules.get(parent), nn.MultiheadAttention)


def _safety(
    names: list[str],
    p: torch.Tensor,
    module_name: str,
    modules: dict[str, nn.Module],
    skip: Sequence[Any],
    owner: nn.Module,
) -> tuple[str, str] | None:
    if not p.requires_grad:
        return "frozen", "requires_grad=False"
    if any(under_pretrained(modules, _split(n)[0]) for n in names):
        return "pretrained", "marked pretrained (initlab.mark_pretrained)"
    for pat in skip:
        if isinstance(pat, type):
            if isinstance(owner, pat):
                return "skipped", f"skip= {pat.__name__}"
        elif any(fnmatch.fnmatchcase(n, str(pat)) for n in names):
            return "skipped", f"skip= {pat!r}"
    return None


def _buffer_rows(
    model: nn.Module, modules: dict[str, nn.Module], skip: Sequence[Any], overwrite: bool
) -> list[PlanRow]:
    rows = []
    for mname, m in modules.items():
        if not isinstance(m, nn.modules.batchnorm._NormBase) or not m.track_running_stats:
            continue
        for local, val in (("running_mean", 0.0), ("running_var", 1.0),
                           ("num_batches_tracked", 0)):  # fmt: skip
            b = getattr(m, local, None)
            if b is None:
                continue
            name = f"{mname}.{local}" if mname else local
            status, reason = "init", f"running statistic reset to {val} (reset_running_stats)"
            own = list(m.parameters(recurse=False))
            if not overwrite:
                if under_pretrained(modules, mname):
                    status, reason = "pretrained", "not written: marked pretrained"
                elif own and not any(q.requires_grad for q in own):
                    status, reason = "frozen", "not written: the norm's parameters are frozen"
                elif any(not isinstance(p, type) and fnmatch.fnmatchcase(name, str(p))
                         for p in skip) or any(isinstance(p, type) and isinstance(m, p)
                                               for p in skip):  # fmt: skip
                    status, reason = "skipped", "not written: skip="
            rows.append(PlanRow(
                name=name, shape=tuple(b.shape), role="running_stat",
                scheme=S.constant(val) if val else S.zeros(), fan_in=None, fan_out=None,
                gain=None, std=0.0, bound=None, reason=reason, status=status, mean=float(val),
                module=mname, module_type=type(m).__name__, module_types=_mro_names(m),
                kind="norm", call=("constant_", {"val": val}), tensor="buffer",
            ))  # fmt: skip
    return rows


__all__ = [
    "PRETRAINED_ATTR",
    "InitPlan",
    "PlanRow",
    "build_plan",
    "plan",
    "rerow",
    "under_pretrained",
]
