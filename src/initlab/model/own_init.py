"""The model's own initialization, re-run for the parameters no rule covers.

initlab never leaves memory uninitialized and never wipes what it does not understand: a
parameter no policy rule covers (a custom module's table, a model-intended value such as an SSM's
``A_log`` or ConvNeXt's layer scale) gets its model's own initialization, re-run under torch's RNG
seeded by (seed, module name), so eager and meta → ``to_empty`` builds give the same values:

1. a Hugging Face model's ``_init_weights`` on the owning module and then its parent (the order
   of HF's own post-order walk: Mamba's mixer sets ``dt_proj.bias`` after ``dt_proj`` did), else
2. the owning module's ``reset_parameters()`` (torch modules and most libraries), else
3. nothing: the parameter keeps its values, and a plan made on the meta device says so; applying
   it to real (``to_empty``) memory then fails with an :class:`~initlab.errors.InitError` naming
   the parameters, instead of training on uninitialized memory.

A module's own init may also write its children (HF's ``MambaMixer`` re-draws ``conv1d``); every
tensor that is not one of the target rows is saved before and restored after, so frozen,
pretrained and planned parameters are never touched by it.

Examples:
    >>> import torch
    >>> from torch import nn
    >>> m = nn.Sequential(nn.Linear(3, 3))
    >>> own_init_method(m, "0")
    'reset_parameters'
    >>> w = m[0].weight.detach().clone()
    >>> run_own_init(m, {"0": ["0.weight", "0.bias"]}, seed=0)
    >>> bool((m[0].weight != w).any())
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import torch
from torch import nn

from initlab.errors import InitError

#: Reason text of a frozen row made on the meta device: its own init is re-run by apply_plan.
META_FROZEN = "made on the meta device: the model's own init is re-run for it (nothing to keep)"
#: Reason text of a kept row made on the meta device with no own init to re-run.
UNINITIALIZED = "no own init to re-run: after to_empty its memory would be uninitialized"


def _hf_root(model: nn.Module) -> nn.Module | None:
    """The outermost module with Hugging Face's ``_init_weights(module)``."""
    for m in model.modules():
        if callable(getattr(m, "_init_weights", None)) and hasattr(m, "config"):
            return m
    return None


def own_init_method(
    model: nn.Module,
    module_name: str,
    *,
    modules: Mapping[str, nn.Module] | None = None,
    hf: bool | None = None,
) -> str | None:
    """How module ``module_name``'s own initialization can be re-run: ``"reset_parameters"``,
    ``"_init_weights"`` (the Hugging Face model's), or None.

    ``modules`` (``dict(model.named_modules())``) and ``hf`` (whether the model has a Hugging
    Face ``_init_weights`` root) save a walk of the model per call when asking for every
    parameter (the planner does)."""
    if modules is not None:
        m = modules.get(module_name)
        if m is None:
            return None
    else:
        try:
            m = model.get_submodule(module_name) if module_name else model
        except AttributeError:
            return None
    if (_hf_root(model) is not None) if hf is None else hf:
        return "_init_weights"
    if callable(getattr(m, "reset_parameters", None)):
        return "reset_parameters"
    return None


def run_own_init(model: nn.Module, targets: Mapping[str, Sequence[str]], seed: int) -> None:
    """Re-run each module's own init for its target parameters (module → parameter names),
    under torch's RNG seeded by (seed, module); every other tensor under the module is restored.

    Raises:
        InitError: a module with no own init (the message names the parameters).
    """
    from initlab.model.apply import stable_seed

    root = _hf_root(model)
    for module_name, names in targets.items():
        how = own_init_method(model, module_name)
        m = model.get_submodule(module_name) if module_name else model
        if how is None:
            raise InitError(
                f"no own initialization for {', '.join(names)}: {type(m).__name__} has no "
                "reset_parameters() and the model no _init_weights(); give these parameters a "
                "rule (rules=[(name, initlab.schemes.normal(0.02))]) or build the model eagerly"
            )
        keep = set(names)
        path = [module_name]
        if how == "_init_weights" and module_name:
            path.append(module_name.rpartition(".")[0])
        top_name = path[-1]
        top = model.get_submodule(top_name) if top_name else model
        saved = _save_others(top, top_name, keep)
        flags = _clear_hf_flags(top, top_name, keep)
        devices = [p.device for p in top.parameters() if p.device.type == "cuda"]
        try:
            with torch.random.fork_rng(devices=devices), torch.no_grad():
                torch.manual_seed(stable_seed(seed, module_name, -1))
                if how == "reset_parameters":
                    m.reset_parameters()  # type: ignore[operator]
                else:
                    for name in path:
                        sub = model.get_submodule(name) if name else model
                        root._init_weights(sub)  # type: ignore[union-attr,operator]
        finally:
            with torch.no_grad():
                for t, v in saved:
                    t.copy_(v)
            for t, old in flags:
                t._is_hf_initialized = old  # type: ignore[attr-defined]


def own_init_values(model: nn.Module, module_name: str, seed: int) -> dict[str, torch.Tensor]:
    """The values :func:`run_own_init` gives module ``module_name``'s own parameters and
    buffers (full names → CPU tensors), computed on a CPU copy: ``model`` (usually on the meta
    device) is not touched. Used by :func:`initlab.scale.write_seed_checkpoint`, so a seed
    checkpoint of a meta model equals eager ``initlab.init``.

    The same calls under the same seeded RNG as :func:`run_own_init`: ``reset_parameters``, or
    the Hugging Face model's ``_init_weights`` on the module and then its parent. The copy holds
    the module and its parent in real memory; when the parent is the whole model only the
    model's own direct tensors and the module are made real (the rest stays on the meta device).

    Raises:
        InitError: a module with no own init (as :func:`run_own_init`).

    Examples:
        >>> with torch.device("meta"):
        ...     m = nn.Sequential(nn.Linear(3, 3))
        >>> v = own_init_values(m, "0", seed=0)
        >>> sorted(v), v["0.weight"].device.type
        (['0.bias', '0.weight'], 'cpu')
    """
    import copy

    from initlab.model.apply import stable_seed

    how = own_init_method(model, module_name)
    m = model.get_submodule(module_name) if module_name else model
    if how is None:
        names = [n for n, _ in _tensors_local(m, module_name)]
        raise InitError(
            f"no own initialization for {', '.join(names)}: {type(m).__name__} has no "
            "reset_parameters() and the model no _init_weights(); give these parameters a "
            "rule (rules=[(name, initlab.schemes.normal(0.02))]) or build the model eagerly"
        )
    path = [module_name]
    if how == "_init_weights" and module_name:
        path.append(module_name.rpartition(".")[0])
    top_name = path[-1]
    top = model.get_submodule(top_name) if top_name else model
    rel = module_name[len(top_name) :].lstrip(".")
    memo: dict[int, object] = {}
    if top_name == "" and module_name:  # the whole model above: keep all but two parts meta
        own = {id(t) for t in m.parameters()} | {id(t) for t in m.buffers()}
        own |= {id(t) for t in top.parameters(recurse=False)}
        own |= {id(t) for t in top.buffers(recurse=False)}
        for t in list(top.parameters()) + list(top.buffers()):
            if id(t) not in own:
                e = torch.empty_like(t, device="meta")
                is_param = isinstance(t, nn.Parameter)
                memo[id(t)] = nn.Parameter(e, t.requires_grad) if is_param else e
    local_top = copy.deepcopy(top, memo)
    local = local_top.get_submodule(rel) if rel else local_top
    if memo:
        local.to_empty(device="cpu")
        local_top.to_empty(device="cpu", recurse=False)
    else:
        local_top.to_empty(device="cpu")
    for _, t in _tensors(local, ""):
        if hasattr(t, "_is_hf_initialized"):
            t._is_hf_initialized = False  # type: ignore[attr-defined]
    root = _hf_root(model)
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(stable_seed(seed, module_name, -1))
        if how == "reset_parameters":
            local.reset_parameters()  # type: ignore[operator]
        else:
            for name in path:
                r = name[len(top_name) :].lstrip(".")
                sub = local_top.get_submodule(r) if r else local_top
                root._init_weights(sub)  # type: ignore[union-attr,operator]
    return {n: t.detach() for n, t in _tensors_local(local, module_name)}


def _tensors_local(m: nn.Module, prefix: str) -> Iterable[tuple[str, torch.Tensor]]:
    """A module's own (direct) parameters and buffers, with full names."""
    pre = f"{prefix}." if prefix else ""
    for n, t in m.named_parameters(recurse=False):
        yield pre + n, t
    for n, t in m.named_buffers(recurse=False):
        yield pre + n, t


def _tensors(m: nn.Module, prefix: str) -> Iterable[tuple[str, torch.Tensor]]:
    pre = f"{prefix}." if prefix else ""
    for n, t in m.named_parameters():
        yield pre + n, t
    for n, t in m.named_buffers():
        yield pre + n, t


def _save_others(
    m: nn.Module, prefix: str, keep: set[str]
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(t, t.detach().clone()) for n, t in _tensors(m, prefix)
            if n not in keep and not t.is_meta]  # fmt: skip


def _clear_hf_flags(m: nn.Module, prefix: str, keep: set[str]) -> list[tuple[torch.Tensor, bool]]:
    """HF's init functions skip tensors flagged ``_is_hf_initialized``: unflag the targets."""
    out = []
    for n, t in _tensors(m, prefix):
        if n in keep and hasattr(t, "_is_hf_initialized"):
            out.append((t, bool(t._is_hf_initialized)))  # type: ignore[attr-defined]
            t._is_hf_initialized = False  # type: ignore[attr-defined]
    return out


def check_initialized(rows: Iterable[object], tensors: Mapping[str, torch.Tensor]) -> None:
    """Fail when a plan made on the meta device keeps parameters that have no own init and
    whose tensors are now real memory (after ``to_empty``: uninitialized values).

    Raises:
        InitError: naming those parameters and the fix.
    """
    bad = [r.name for r in rows  # type: ignore[attr-defined]
           if getattr(r, "status", "") == "kept" and UNINITIALIZED in getattr(r, "reason", "")
           and (t := tensors.get(r.name)) is not None and not t.is_meta]  # type: ignore[attr-defined]  # fmt: skip
    if bad:
        raise InitError(
            f"apply_plan: {', '.join(bad)} would stay uninitialized memory (the plan was made on "
            "the meta device and no rule or own init covers them); add a rule for them, e.g. "
            f"rules=[({bad[0]!r}, initlab.schemes.normal(0.02))]"
        )


__all__ = [
    "META_FROZEN",
    "UNINITIALIZED",
    "check_initialized",
    "own_init_method",
    "own_init_values",
    "run_own_init",
]
