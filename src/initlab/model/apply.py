"""Writing a plan: ``apply_plan``, ``init`` (= :func:`~initlab.model.plan.plan` + ``apply_plan``),
``mark_pretrained``.

Randomness by name (docs/architecture.md): each parameter's values depend only on (seed,
parameter name). Its generator is seeded from a stable BLAKE2b hash of both (never Python's salted
``hash``); elementwise schemes are drawn in fixed blocks of :data:`BLOCK` elements of the
flattened index space, block ``i`` from a generator seeded by hash(seed, name, i), so a shard of
a parameter can produce exactly its own part, and nothing depends on construction order, on
which other parameters were initialized, or on the number of threads. Orthogonal schemes need the
whole matrix: one generator seeded by hash(seed, name); the plan marks those rows.

Examples:
    >>> import torch
    >>> from torch import nn
    >>> m = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2))
    >>> p = init(m, torch.randn(2, 8), seed=0)
    >>> w = m[0].weight.clone()
    >>> _ = init(m, torch.randn(2, 8), seed=0)
    >>> torch.equal(w, m[0].weight)
    True
"""

from __future__ import annotations

import hashlib
import sys
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from initlab.errors import InitError
from initlab.model.own_init import META_FROZEN, check_initialized, run_own_init
from initlab.model.plan import (
    PRETRAINED_ATTR,
    InitPlan,
    PlanRow,
    Rule,
    plan,
    under_pretrained,
)
from initlab.model.policies import Policy
from initlab.model.specs import core_fn, draw, takes_generator
from initlab.model.structure import unwrap

#: Elements per independently seeded block of an elementwise scheme (2^20).
BLOCK = 1 << 20


def stable_seed(seed: int, name: str, block: int = 0) -> int:
    """A 63-bit seed from (seed, name, block): BLAKE2b, identical on every run and machine.

    Examples:
        >>> stable_seed(0, "fc.weight") == stable_seed(0, "fc.weight")
        True
        >>> stable_seed(0, "fc.weight") != stable_seed(1, "fc.weight")
        True
    """
    h = hashlib.blake2b(f"initlab\x00{int(seed)}\x00{name}\x00{int(block)}".encode(), digest_size=8)
    return int.from_bytes(h.digest(), "little") & ((1 << 63) - 1)


def generator_for(seed: int, name: str, block: int, device: torch.device) -> torch.Generator:
    """A fresh generator on ``device`` seeded by :func:`stable_seed`.

    Examples:
        >>> a = generator_for(0, "fc.weight", 0, torch.device("cpu"))
        >>> b = generator_for(0, "fc.weight", 0, torch.device("cpu"))
        >>> torch.equal(torch.rand(3, generator=a), torch.rand(3, generator=b))
        True
    """
    g = torch.Generator(device=device)
    g.manual_seed(stable_seed(seed, name, block))
    return g


def apply_plan(
    model: nn.Module, plan: InitPlan, seed: int = 0, *, overwrite: bool = False
) -> InitPlan:
    """Write ``plan`` into ``model``, each parameter from a generator seeded by (seed, name).

    Only rows with status ``init`` are written. Parameters with ``requires_grad=False`` or under
    a module marked pretrained are re-checked here and left alone unless ``overwrite=True``.
    Tied parameters are one row and are written once, in place, so they stay tied. Parameters on
    the meta device are left alone (nothing to write).

    Raises:
        InitError: the plan names a parameter the model does not have, or a shape differs.

    Examples:
        >>> import torch, initlab
        >>> from torch import nn
        >>> m = nn.Linear(16, 16)
        >>> p = initlab.plan(m, torch.randn(1, 16), policy="lecun")
        >>> _ = initlab.apply_plan(m, p, seed=1)
        >>> round(float(m.bias.detach().abs().sum()), 6)
        0.0
    """
    if not isinstance(plan, InitPlan):
        raise InitError(
            f"apply_plan: plan must be an InitPlan (from initlab.plan), got {type(plan).__name__}"
        )
    model = unwrap(model)
    tensors: dict[str, torch.Tensor] = dict(model.named_parameters(remove_duplicate=False))
    tensors.update(dict(model.named_buffers(remove_duplicate=False)))
    modules = dict(model.named_modules())
    check_initialized(plan.rows, tensors)
    todo: list[tuple[PlanRow, torch.Tensor]] = []
    for row in plan.rows:
        meta_frozen = row.status == "frozen" and META_FROZEN in row.reason
        if not row.written and not meta_frozen:
            continue
        t = tensors.get(row.name)
        if t is None:
            raise InitError(
                f"apply_plan: the plan names {row.name!r} but the model has no such "
                "parameter or buffer; build the plan from this model (initlab.plan(model, ...))"
            )
        if tuple(t.shape) != tuple(row.shape):
            raise InitError(
                f"apply_plan: {row.name} has shape {tuple(t.shape)} but the plan says "
                f"{tuple(row.shape)}; rebuild the plan for this model"
            )
        if not overwrite and row.tensor == "parameter" and not meta_frozen:
            if not t.requires_grad or under_pretrained(modules, row.module):
                continue
        if row.aliases:
            _retie(model, row, t, tensors)
        todo.append((row, t))
    # the model's own init first (it may re-draw a whole module), then every planned row
    own: dict[str, list[str]] = {}
    for row, t in todo:
        if row.call[0] == "reset_parameters" and not t.is_meta:
            own.setdefault(row.module, []).append(row.name)
    run_own_init(model, own, seed)
    # every row's Python work first, then the fills back to back (see _job)
    jobs = [_job(t, row, seed) for row, t in todo if row.call[0] != "reset_parameters"]
    _run_jobs(jobs)
    return plan


def _retie(
    model: nn.Module, row: PlanRow, t: torch.Tensor, tensors: dict[str, torch.Tensor]
) -> None:
    """The plan says these names are one tensor; ``to_empty``/``load_state_dict(assign=True)``
    may have untied them: tie them again (and say so) so they are written once and stay tied."""
    for alias in row.aliases:
        other = tensors.get(alias)
        if other is None or other is t:
            continue
        mod_name, _, local = alias.rpartition(".")
        owner = model.get_submodule(mod_name) if mod_name else model
        if isinstance(t, nn.Parameter) and local in owner._parameters:
            setattr(owner, local, t)
            tensors[alias] = t
            warnings.warn(
                f"apply_plan: {alias} and {row.name} were tied when the plan was made but are "
                "separate tensors now (model.to_empty() unties weights); tied them again. Call "
                "your model's tie_weights() after to_empty to silence this",
                stacklevel=3,
            )


def dtensor_type() -> type | None:
    """DTensor, if torch.distributed.tensor is loaded (no DTensor can exist otherwise; importing
    it costs seconds, sympy included, so a model of plain tensors never pays for it)."""
    return getattr(sys.modules.get("torch.distributed.tensor"), "DTensor", None)


def write(t: torch.Tensor, row: PlanRow, seed: int) -> torch.Tensor:
    """Write one plan row into tensor ``t`` (values depend only on seed and ``row.name``).

    The row's ``call`` names an :mod:`initlab.core` initializer; one that draws random numbers
    gets a generator seeded by (seed, name), per block of :data:`BLOCK` elements when the row is
    elementwise (:func:`initlab.model.specs.draw` makes the call).

    Examples:
        >>> import initlab
        >>> m = nn.Linear(4, 4)
        >>> row = initlab.plan(m, torch.randn(1, 4), policy="xavier")["weight"]
        >>> w = write(torch.empty(4, 4), row, seed=0)
        >>> torch.equal(w, write(torch.empty(4, 4), row, seed=0))  # values from (seed, name)
        True
    """
    _run_jobs([_job(t, row, seed)])
    return t


#: One row's writes: (generator, [(fill, block, arguments, seed) per block], what to run after
#: the blocks). Block: ``g.manual_seed(seed)``, then ``fill(block, *arguments, generator=g)``.
_Job = tuple[torch.Generator | None, list[tuple[Any, torch.Tensor, tuple[Any, ...], int]],
             Callable[[], None] | None]  # fmt: skip


def _job(t: torch.Tensor, row: PlanRow, seed: int) -> _Job:
    """Everything :func:`write` does before drawing: after a fill of megabytes the CPU caches
    are cold and Python run between two fills costs ~5× its usual time (measured: ~80 µs a
    block through the initializer's checks, 2 % of a 1B-parameter init), so views, seeds and
    the fill to repeat are prepared first and :func:`_run_jobs` only re-seeds and fills.

    Elementwise rows of a contiguous tensor: block i is ``fn(block_i, **kwargs, generator=g)``
    with ``g`` seeded by ``stable_seed(seed, name, i)``; when ``fn`` (an initlab.core
    initializer) does nothing but one ``normal_``/``uniform_`` fill of the block, that fill
    is called directly (:func:`_recorded_fill`). Other rows run the initializer as a whole."""
    name = row.call[0]
    if name == "keep" or t.is_meta or t.numel() == 0:
        return None, [], None
    dtensor = dtensor_type()
    if dtensor is not None and isinstance(t, dtensor):
        raise InitError(
            f"{row.name} is a DTensor (FSDP2 / tensor parallel): drawing through it would not "
            "give initlab's per-name values; use initlab.scale.apply_plan_sharded(model, plan, "
            "seed) on every rank"
        )
    if not (row.elementwise and takes_generator(name)) or not t.is_contiguous():
        return None, [], lambda: _write_whole(t, row, seed)
    flat = t.detach().view(-1)
    n = flat.numel()
    fn, kwargs = core_fn(name), row.call[1]
    # one generator re-seeded per block: manual_seed resets its whole state (engine and cached
    # normal sample on CPU, seed and offset on CUDA), so each block draws what a fresh
    # generator_for(seed, name, i) would, without building a generator per block
    g = torch.Generator(device=t.device)
    fills: dict[int, tuple[Any, tuple[Any, ...]]] = {}  # block size → (fill, arguments)
    blocks = []
    for i, start in enumerate(range(0, n, BLOCK)):
        block = flat[start : start + BLOCK]
        size = block.numel()
        if size not in fills:  # the initializer's path depends on the block's size only
            fills[size] = _recorded_fill(fn, block, kwargs, g) or (partial(fn, **kwargs), ())
        fill, args = fills[size]
        blocks.append((fill, block, args, stable_seed(seed, row.name, i)))
    zero = row.zero_rows
    return g, blocks, (lambda: _zero_rows(t, zero)) if zero else None


def _run_jobs(jobs: Sequence[_Job]) -> None:
    with torch.no_grad():
        for g, blocks, after in jobs:
            for fill, block, args, s in blocks:
                g.manual_seed(s)  # type: ignore[union-attr]
                fill(block, *args, generator=g)
            if after is not None:
                after()


def _zero_rows(t: torch.Tensor, rows: Sequence[int]) -> None:
    for r in rows:
        t[r].zero_()


def _write_whole(t: torch.Tensor, row: PlanRow, seed: int) -> None:
    """A row not written block by block from a prepared job: a whole-tensor initializer
    (orthogonal, constants) or an elementwise row of a non-contiguous tensor (drawn into a
    contiguous buffer block by block, then copied)."""
    with torch.no_grad():
        if row.elementwise and takes_generator(row.call[0]):
            n = t.numel()
            flat = torch.empty(n, dtype=t.dtype, device=t.device)
            for i, start in enumerate(range(0, n, BLOCK)):
                draw(row.call, flat[start : start + BLOCK],
                     generator_for(seed, row.name, i, t.device))  # fmt: skip
            t.detach().copy_(flat.view(t.shape))
        else:
            draw(row.call, t, generator_for(seed, row.name, 0, t.device))
        _zero_rows(t, row.zero_rows)


#: Torch calls an initializer may make on a block without its result depending on anything but
#: the block's shape, dtype and device (never its offset, strides or values).
_QUERIES = frozenset({"is_floating_point", "is_complex", "numel", "dim", "size",
                      "_set_grad_enabled"})  # fmt: skip
_PROPERTIES = frozenset({"is_meta", "dtype", "device", "shape", "ndim", "is_cuda", "layout",
                         "requires_grad"})  # fmt: skip
_FILLS = frozenset({"normal_", "uniform_"})


class _NotOneFill(Exception):
    """The initializer made a torch call other than shape queries and one fill."""


class _FillRecorder(TorchFunctionMode):
    """Runs shape/dtype queries, records the first ``normal_``/``uniform_`` of the block with
    the generator instead of running it, and stops the initializer at any other call."""

    def __init__(self, block: torch.Tensor, g: torch.Generator) -> None:
        super().__init__()
        self.block, self.g = block, g
        self.fill: tuple[Any, tuple[Any, ...]] | None = None

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        kwargs = kwargs or {}
        fname = getattr(func, "__name__", "")
        if fname in _QUERIES or (
            fname == "__get__"
            and getattr(getattr(func, "__self__", None), "__name__", "") in _PROPERTIES
        ):
            return func(*args, **kwargs)
        if (
            self.fill is None
            and fname in _FILLS
            and getattr(func, "__objclass__", None) is torch._C.TensorBase
            and args
            and args[0] is self.block
            and all(type(a) in (int, float) for a in args[1:])
            and kwargs.keys() == {"generator"}
            and kwargs["generator"] is self.g
        ):
            self.fill = (func, tuple(args[1:]))
            return self.block  # what the fill returns; nothing is drawn here
        raise _NotOneFill


def _recorded_fill(
    fn: Any, block: torch.Tensor, kwargs: dict[str, Any], g: torch.Generator
) -> tuple[Any, tuple[Any, ...]] | None:
    """The one torch fill ``fn(block, **kwargs, generator=g)`` makes, ``(Tensor.normal_,
    (mean, std))`` or ``(Tensor.uniform_, (a, b))``, when that fill is all it does besides
    shape/dtype queries; found by a dry run that draws nothing. The same call with the same
    arguments then draws exactly what ``fn`` would on this block and on every other block of
    the same size, dtype and device (an initlab.core initializer is a function of those, its
    arguments and the generator). None when ``fn`` does anything else (truncated normal's
    redraws): the caller then calls ``fn`` itself. ``fn``'s own errors (an integer tensor)
    propagate."""
    rec = _FillRecorder(block, g)
    try:
        with rec:
            fn(block, **kwargs, generator=g)
    except _NotOneFill:
        return None
    return rec.fill


def write_block(out: torch.Tensor, row: PlanRow, seed: int, index: int) -> torch.Tensor:
    """Write block ``index`` of an elementwise row into the 1-D ``out``: the values that
    :func:`write` puts at flat positions ``[index·BLOCK, index·BLOCK + out.numel())`` of the
    parameter (``out.numel()`` is BLOCK, or what is left in the last block). A shard of a
    sharded parameter, or a streaming writer, produces its part with it.

    Raises:
        InitError: the row is not elementwise (an orthogonal matrix has no independent blocks).

    Examples:
        >>> import initlab
        >>> row = initlab.plan(nn.Linear(8, 8), torch.randn(1, 8), policy="he")["weight"]
        >>> whole = write(torch.empty(8, 8), row, seed=1)
        >>> torch.equal(write_block(torch.empty(64), row, seed=1, index=0), whole.view(-1))
        True
    """
    if not row.elementwise:
        raise InitError(f"write_block: {row.name} is not elementwise ({row.call[0]})")
    with torch.no_grad():
        draw(row.call, out, generator_for(seed, row.name, index, out.device))
    return out


def init(
    model: nn.Module,
    example_input: Any = None,
    policy: str | Policy = "auto",
    seed: int = 0,
    rules: Sequence[Rule] | None = None,
    *,
    skip: Sequence[Any] = (),
    overwrite: bool = False,
) -> InitPlan:
    """Initialize ``model`` in place: ``apply_plan(model, plan(model, ...), seed)``.

    Same seed ⇒ same weights, whatever the construction order, device of construction (meta +
    ``to_empty`` gives the same weights as eager) or number of threads. Frozen, pretrained and
    ``skip=`` parameters are not written unless ``overwrite=True``; BatchNorm running statistics
    are reset.

    Returns:
        The plan that was applied (print it to see every decision).

    Examples:
        >>> import torch, initlab
        >>> from torch import nn
        >>> m = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
        >>> p = initlab.init(m, torch.randn(2, 64), seed=0)
        >>> p["0.weight"].reason.startswith("relu: He")
        True
    """
    p = plan(model, example_input, policy, rules, skip=skip, overwrite=overwrite)
    apply_plan(model, p, seed=seed, overwrite=overwrite)
    return p


def mark_pretrained(module: nn.Module, pretrained: bool = True) -> nn.Module:
    """Mark ``module`` (and everything under it) as pretrained: ``init``/``apply_plan`` never
    write its parameters or buffers unless ``overwrite=True``. Returns the module.

    Examples:
        >>> from torch import nn
        >>> m = mark_pretrained(nn.Linear(2, 2))
        >>> is_pretrained(m)
        True
    """
    if not isinstance(module, nn.Module):
        raise InitError(
            f"mark_pretrained: expected an nn.Module, got {type(module).__name__}"
        )
    setattr(module, PRETRAINED_ATTR, bool(pretrained))
    return module


def is_pretrained(module: nn.Module) -> bool:
    """Was ``module`` itself marked with :func:`mark_pretrained`?"""
    return bool(getattr(module, PRETRAINED_ATTR, False))


__all__ = [
    "BLOCK",
    "apply_plan",
    "generator_for",
    "init",
    "is_pretrained",
    "mark_pretrained",
    "plan",
    "stable_seed",
    "write",
    "write_block",
]
