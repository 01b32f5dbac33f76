"""The one registry of starts: every initialization a user can name, resolved in one place.

A *start* is how a model's weights are set before training. The demo, ``initlab compare``,
sweeps, reproductions, the doctor's ``--init`` and the web explorer all resolve names here, so
"he" means the same thing everywhere.

- ``textbook``: ``zeros``, ``constant(value=0.1)``, ``small`` (N(0, 0.01²)), ``normal``
  (N(0, 1)), ``normal(std=…)``, ``uniform(a=…)`` (U(−a, a)): fill the weight of every Linear
  and Conv module and zero their biases; other parameters keep their values.
- ``meanfield(sigma_w2=…, sigma_b2=…)``: the mean-field parametrization of Poole et al. 2016 /
  Schoenholz et al. 2017: weights N(0, σ_w²/fan_in), biases N(0, σ_b²), on Linear/Conv.
- ``policy``: every :func:`initlab.init` policy with its options (``auto``, ``torch``,
  ``xavier``, ``he``, ``lecun``, ``orthogonal``, ``gpt2``, ``fixup``, ``zero_residual``,
  ``delta_orthogonal``, ``critical(sigma_b2=0.05)`` …):
  ``initlab.init(model, example_input, policy=..., seed=seed)``, activation-aware, every
  module type.
- ``lsuv``: LSUV (Mishkin & Matas 2015) on ``example_input``: orthonormal pre-init, then each
  layer rescaled to unit output std.
- ``callable``: ``"pkg.module:function"`` or a Python callable ``fn(model)``, called on the
  model with torch's global RNG seeded by ``seed``.

Every start is deterministic: the same seed gives the same weights (textbook starts seed each
parameter's generator from (seed, parameter name), as :func:`initlab.init` does).

Examples:
    >>> from torch import nn
    >>> s = get_start("normal(std=0.05)")
    >>> s.name, s.label, s.kind
    ('normal(std=0.05)', 'N(0, 0.05²)', 'textbook')
    >>> net = s.apply(nn.Sequential(nn.Linear(64, 64), nn.ReLU()), seed=0)
    >>> w, b = net[0].weight.detach(), net[0].bias.detach()
    >>> round(float(w.std()), 2), float(b.abs().sum())
    (0.05, 0.0)
    >>> get_start("critical(sigma_b2=0.05)").kind
    'policy'
"""

from __future__ import annotations

import importlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from initlab.core import schemes as S
from initlab.core.fans import fans_of
from initlab.errors import InitError
from initlab.model.apply import stable_seed
from initlab.model.policies import POLICIES, POLICY_OPTIONS, Policy, make_policy

#: Textbook starts: name → (option name or None, default value, label format, description).
_TEXTBOOK: dict[str, tuple[str | None, float | None, str]] = {
    "zeros": (None, None, "all weights 0: every unit of a layer computes the same thing, "
              "symmetry is never broken"),
    "constant": ("value", 0.1, "every weight the same constant: symmetric, like zeros"),
    "small": (None, None, "N(0, 0.01²), the naive small-random start: the signal shrinks "
              "×0.01·√fan_in per layer"),
    "normal": ("std", 1.0, "N(0, std²) ignoring fan_in: N(0, 1) multiplies the variance by "
               "fan_in·E[φ²] per layer"),
    "uniform": ("a", 1.0, "U(−a, a) ignoring fan_in (variance a²/3)"),
}

_POLICY_LABELS = {
    "auto": "initlab auto",
    "torch": "PyTorch default",
    "xavier": "Xavier",
    "he": "He",
    "lecun": "LeCun",
    "orthogonal": "Orthogonal",
    "gpt2": "GPT-2",
    "fixup": "Fixup",
    "zero_residual": "Zero-γ residual",
    "delta_orthogonal": "Delta-orthogonal",
    "critical": "Critical",
}
_POLICY_DESCRIPTIONS = {
    "auto": "initlab's guideline table: He/Xavier/LeCun by the following activation, small "
            "output layer, residual ends × 1/√N",
    "torch": "each module's own reset_parameters (what torch draws when a layer is built)",
    "xavier": "Glorot & Bengio 2010, eq. 16: U(±√(6/(fan_in+fan_out)))",
    "he": "He et al. 2015, eq. 10: N(0, 2/fan_in)",
    "lecun": "LeCun et al. 1998: N(0, 1/fan_in)",
    "orthogonal": "Saxe et al. 2014: orthogonal × the activation's variance gain",
    "gpt2": "Radford et al. 2019 / nanoGPT: N(0, 0.02²), residual projections / √(2·n_layer)",
    "fixup": "Zhang et al. 2019: residual branch ends 0, other branch layers He × L^(−1/(2m−2))",
    "zero_residual": "Goyal et al. 2017: auto, then the last norm γ of each residual branch 0",
    "delta_orthogonal": "Xiao et al. 2018: convolutions delta-orthogonal, Linear orthogonal",
    "critical": "Schoenholz et al. 2017: (σ_w², σ_b²) on the edge of chaos χ₁ = 1",
}
_OPTION_SYMBOLS = {"sigma_b2": "σ_b²", "q_star": "q*", "lstm_forget_bias": "forget bias"}

_SPEC = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$", re.S)
_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_TARGETS = (nn.Linear, nn.modules.conv._ConvNd)


def _fmt(v: float) -> str:
    return f"{v:.10g}"


@dataclass(frozen=True)
class Start:
    """A named way to initialize a model, resolved by :func:`get_start`.

    Attributes:
        name: the canonical spec, parseable back by :func:`get_start` (``"zeros"``,
            ``"normal(std=0.01)"``, ``"critical(sigma_b2=0.05)"``, ``"pkg.mod:fn"``).
        label: a short legend label (``"N(0, 0.01²)"``, ``"He"``).
        description: one line with the formula and the paper.
        kind: ``"textbook"``, ``"policy"``, ``"lsuv"`` or ``"callable"``.
        options: the start's options as sorted (name, value) pairs.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> m = get_start("he").apply(nn.Sequential(nn.Linear(256, 256), nn.ReLU()))
        >>> abs(float(m[0].weight.detach().var()) * 256 / 2 - 1) < 0.05
        True
    """

    name: str
    label: str
    description: str
    kind: str
    options: tuple[tuple[str, Any], ...] = ()
    fn: Callable[[nn.Module], Any] | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return self.name

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "description": self.description,
                "kind": self.kind, "options": dict(self.options)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def apply(self, model: nn.Module, example_input: Any = None, *, seed: int = 0) -> nn.Module:
        """Initialize ``model`` in place with this start and return it.

        Args:
            model: any ``nn.Module``.
            example_input: a batch for tracing (policies: finds functional activations and
                residual branches) and for LSUV (required there). When None and the model has
                an ``example_input(batch)`` method (the zoo's models), that is used.
            seed: same seed ⇒ same weights.

        Raises:
            InitError: a bad seed, a model that is not an ``nn.Module``, LSUV without an
                input, a policy refusing the model, or a user callable that failed.
        """
        if not isinstance(model, nn.Module):
            raise InitError(
                f"start {self.name!r}: expected an nn.Module, got {type(model).__name__}"
            )
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise InitError(f"start {self.name!r}: seed must be a non-negative int, got {seed!r}")
        if example_input is None and self.kind in ("policy", "lsuv"):
            example_input = _default_input(model)
        if self.kind == "textbook":
            _fill_textbook(model, self.name.split("(")[0], dict(self.options), seed)
        elif self.kind == "policy":
            import initlab

            initlab.init(model, example_input, policy=_policy(self), seed=seed)
        elif self.kind == "lsuv":
            if example_input is None:
                raise InitError(
                    "start 'lsuv' needs an example input (a batch the model takes): pass "
                    "example_input=..., e.g. a batch of training data"
                )
            import initlab

            initlab.lsuv(model, example_input, seed=seed)
        else:
            assert self.fn is not None
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                try:
                    self.fn(model)
                except InitError:
                    raise
                except Exception as e:  # a user's function: report it in one line
                    raise InitError(
                        f"start {self.name!r} raised {type(e).__name__}: {e}"
                    ) from e
        return model


def _policy(start: Start) -> Policy:
    return make_policy(start.name.split("(")[0], **dict(start.options))


def _default_input(model: nn.Module) -> Any:
    maker = getattr(model, "example_input", None)
    if callable(maker):
        try:
            return maker(8)
        except Exception:  # not the zoo's method: trace nothing
            return None
    return None


def _fill_textbook(model: nn.Module, kind: str, opts: dict[str, Any], seed: int) -> None:
    with torch.no_grad():
        for mod_name, m in model.named_modules():
            if not isinstance(m, _TARGETS):
                continue
            w = m.weight
            g = torch.Generator().manual_seed(stable_seed(seed, f"{mod_name}.weight"))
            cpu = torch.empty(w.shape, dtype=w.dtype) if w.device.type != "cpu" else w
            if kind == "meanfield":
                fan_in = fans_of(m, "weight").fan_in
                S.normal_(cpu, 0.0, math.sqrt(opts["sigma_w2"] / fan_in), generator=g)
                if cpu is not w:
                    w.copy_(cpu)
                if m.bias is not None:
                    gb = torch.Generator().manual_seed(stable_seed(seed, f"{mod_name}.bias"))
                    b = torch.empty(m.bias.shape, dtype=m.bias.dtype)
                    S.normal_(b, 0.0, math.sqrt(opts["sigma_b2"]), generator=gb) \
                        if opts["sigma_b2"] > 0 else S.zeros_(b)
                    m.bias.copy_(b)
                continue
            if kind == "zeros":
                S.zeros_(cpu)
            elif kind == "constant":
                S.constant_(cpu, opts["value"])
            elif kind == "small":
                S.normal_(cpu, 0.0, 0.01, generator=g)
            elif kind == "normal":
                S.normal_(cpu, 0.0, opts["std"], generator=g)
            else:  # uniform
                S.uniform_(cpu, -opts["a"], opts["a"], generator=g)
            if cpu is not w:
                w.copy_(cpu)
            if m.bias is not None:
                S.zeros_(m.bias)


def _meanfield(opts: dict[str, Any], spec: str) -> Start:
    vals = {"sigma_w2": 2.0, "sigma_b2": 0.0}
    for k, v in opts.items():
        if k not in vals:
            raise InitError(f"start {spec!r}: unknown option {k!r}; 'meanfield' takes "
                            "sigma_w2=…, sigma_b2=…")
        try:
            x = float(v)
        except (TypeError, ValueError):
            x = math.nan
        if isinstance(v, bool) or not math.isfinite(x) or x < 0 or (k == "sigma_w2" and x == 0):
            raise InitError(f"start {spec!r}: {k} must be a finite variance "
                            f"{'> 0' if k == 'sigma_w2' else '≥ 0'}, got {v!r}")
        vals[k] = x
    w2, b2 = vals["sigma_w2"], vals["sigma_b2"]
    name = f"meanfield(sigma_w2={_fmt(w2)}, sigma_b2={_fmt(b2)})"
    return Start(name, f"σ_w²={_fmt(w2)}, σ_b²={_fmt(b2)}",
                 "Poole et al. 2016; Schoenholz et al. 2017: W ~ N(0, σ_w²/fan_in), "
                 "b ~ N(0, σ_b²)", "textbook", tuple(sorted(vals.items())))


def _textbook(name: str, opts: dict[str, Any], spec: str) -> Start:
    key, default, desc = _TEXTBOOK[name]
    if key is None and opts:
        raise InitError(f"start {spec!r}: {name!r} takes no options (e.g. {name!r})")
    values: dict[str, float] = {}
    for k, v in opts.items():
        if k != key:
            raise InitError(f"start {spec!r}: unknown option {k!r}; {name!r} takes {key}=…")
        try:
            x = float(v)
        except (TypeError, ValueError):
            x = math.nan
        if isinstance(v, bool) or not math.isfinite(x) or (name != "constant" and x <= 0):
            what = "a finite number" if name == "constant" else "a finite number > 0"
            raise InitError(f"start {spec!r}: {k} must be {what}, got {v!r}")
        values[k] = x
    if key is not None:
        val = values.get(key, default)
        assert val is not None
        canonical = name if val == default else f"{name}({key}={_fmt(val)})"
        labels = {"constant": f"const {_fmt(val)}", "normal": f"N(0, {_fmt(val)}²)",
                  "uniform": f"U(±{_fmt(val)})"}
        label = "N(0, 1)" if (name, val) == ("normal", 1.0) else labels[name]
        if name == "normal":
            desc = f"{label} ignoring fan_in: the variance changes by " + (
                "fan_in·E[φ²]" if val == 1 else f"{_fmt(val * val)}·fan_in·E[φ²]") + " per layer"
        elif name == "uniform":
            desc = f"U(−{_fmt(val)}, {_fmt(val)}) ignoring fan_in (variance a²/3)"
        return Start(canonical, label, desc, "textbook", ((key, val),))
    label = {"zeros": "zeros", "small": "N(0, 0.01²)"}[name]
    return Start(name, label, desc, "textbook")


def _from_policy(p: Policy) -> Start:
    label = _POLICY_LABELS.get(p.name, p.name)
    if p.options:
        label += " (" + ", ".join(f"{_OPTION_SYMBOLS.get(k, k)}={_fmt(v)}"
                                  for k, v in p.options) + ")"
    return Start(str(p), label, _POLICY_DESCRIPTIONS.get(p.name, p.name), "policy", p.options)


def _from_callable(fn: Callable[[nn.Module], Any], name: str | None = None) -> Start:
    if name is None:
        name = f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"
    doc = (getattr(fn, "__doc__", None) or "").strip().splitlines()
    short = name.rsplit(":", 1)[-1]
    return Start(name, short, doc[0] if doc else f"the user's function {name}", "callable",
                 fn=fn)


def _import_callable(spec: str) -> Callable[[nn.Module], Any]:
    mod_name, _, attr = spec.partition(":")
    try:
        obj: Any = importlib.import_module(mod_name)
    except Exception as e:
        raise InitError(
            f"start {spec!r}: cannot import module {mod_name!r} ({type(e).__name__}: {e}); "
            "check the name and that it is on PYTHONPATH"
        ) from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InitError(f"start {spec!r}: module {mod_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise InitError(f"start {spec!r}: {attr!r} is not callable; give a function fn(model)")
    return obj


def _parse(spec: str) -> tuple[str, dict[str, str]]:
    m = _SPEC.match(spec)
    if not m:
        raise InitError(
            f"unknown start {spec!r}; use a name like 'he' or 'normal(std=0.01)'. "
            f"Starts: {_names_line()}"
        )
    opts: dict[str, str] = {}
    if m.group(2) is not None:
        for part in filter(None, (p.strip() for p in m.group(2).split(","))):
            key, eq, val = part.partition("=")
            if not eq or not key.strip():
                raise InitError(
                    f"start {spec!r}: expected name(key=value, ...), e.g. 'normal(std=0.01)'"
                )
            opts[key.strip()] = val.strip()
    return m.group(1), opts


def _names_line() -> str:
    return ", ".join(s.name for s in available_starts()) + ", or 'pkg.module:function'"


def get_start(spec: str | Start | Callable[[nn.Module], Any]) -> Start:
    """Resolve a start from its name, a ``"name(key=value)"`` spec, a :class:`Start`, a
    ``"pkg.module:function"`` path or a callable ``fn(model)``.

    Raises:
        InitError: an unknown name (the message lists every name), an unknown or bad option,
            a function path that cannot be imported.

    Examples:
        >>> get_start("normal(std=1)").name
        'normal'
        >>> get_start("normal(std=0.01)").label     # the distribution of "small"
        'N(0, 0.01²)'
        >>> get_start("he").label
        'He'
        >>> get_start("critical(sigma_b2=0.05)").label
        'Critical (σ_b²=0.05)'
    """
    if isinstance(spec, Start):
        return spec
    if not isinstance(spec, str):
        if callable(spec):
            return _from_callable(spec)
        raise InitError(
            f"a start is a name such as 'he', a 'pkg.module:function' path or a callable "
            f"fn(model), got {type(spec).__name__}"
        )
    text = spec.strip()
    if ":" in text and "(" not in text:
        if not _CALLABLE.match(text):
            raise InitError(f"start {spec!r}: expected 'pkg.module:function'")
        return _from_callable(_import_callable(text), text)
    name, opts = _parse(text)
    if name in _TEXTBOOK:
        return _textbook(name, opts, spec)
    if name == "meanfield":
        return _meanfield(opts, spec)
    if name == "lsuv":
        if opts:
            raise InitError(f"start {spec!r}: 'lsuv' takes no options")
        return Start("lsuv", "LSUV", "Mishkin & Matas 2015: orthonormal, then each layer "
                     "rescaled to unit output variance on a data batch", "lsuv")
    if name in POLICIES:
        try:
            return _from_policy(make_policy(name, **opts))
        except InitError as e:
            raise InitError(f"start {spec!r}: {e}") from None
    raise InitError(f"unknown start {spec!r}; choose from {_names_line()}")


def available_starts() -> list[Start]:
    """Every named start (for menus), textbook ones first, with their defaults.

    Examples:
        >>> names = [s.name for s in available_starts()]
        >>> names[:4], "he" in names, "lsuv" in names
        (['zeros', 'constant', 'small', 'normal'], True, True)
    """
    out = [get_start(n) for n in _TEXTBOOK]
    out.append(get_start("meanfield"))
    out += [get_start(n) for n in POLICIES]
    out.append(get_start("lsuv"))
    return out


def apply_start(model: nn.Module, spec: str | Start | Callable[[nn.Module], Any],
                example_input: Any = None, *, seed: int = 0) -> Start:
    """Resolve ``spec`` and initialize ``model`` with it (in place); returns the :class:`Start`.

    Examples:
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(4, 4), nn.Tanh())
        >>> apply_start(net, "zeros").label, float(net[0].weight.detach().abs().sum())
        ('zeros', 0.0)
    """
    start = get_start(spec)
    start.apply(model, example_input, seed=seed)
    return start


#: Options each policy start takes (from :data:`initlab.model.policies.POLICY_OPTIONS`).
START_OPTIONS: dict[str, tuple[str, ...]] = {
    **{k: (v[0],) for k, v in _TEXTBOOK.items() if v[0] is not None},
    "meanfield": ("sigma_w2", "sigma_b2"),
    **POLICY_OPTIONS,
}

__all__ = ["START_OPTIONS", "Start", "apply_start", "available_starts", "get_start"]
