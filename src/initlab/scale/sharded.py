"""Sharded initialization: DTensor / FSDP2 (``fully_shard``) parameters, each rank writing only
its own shard, with values bit-identical to single-process :func:`initlab.init`.

Why it works: :mod:`initlab.model.apply` draws an elementwise parameter in fixed blocks of
``BLOCK`` = 2²⁰ elements of its flattened (row-major) index space, block ``i`` from a generator
seeded by hash(seed, name, i). A rank that holds the box ``offsets + [0, local_shape)`` of the
global tensor generates only the blocks that box touches and copies its part out of them: the
result does not depend on the world size, the mesh or the placements.

* ``Shard(0)`` (FSDP2's placement, TP column-wise): the box is one contiguous flat range; a rank
  generates its ~1/W of the values plus at most two partial blocks at its ends.
* ``Shard(d)`` for d > 0 (TP row-wise): the box is a column slice of every row, and every block
  holds some of it: each rank generates all blocks and keeps its columns (compute W× that of
  Shard(0), memory one block + one row group, no communication).
* ``Replicate``: every rank generates the whole tensor (no communication).
* Schemes that need the whole matrix (orthogonal, delta-orthogonal, identity, gate constants):
  computed **once**, on one rank (chosen round-robin over such rows to spread the QR work), then
  scattered/broadcast with ``distribute_tensor(src_data_rank=...)``. The same path serves
  placements without a box (``_StridedShard``, ``Partial``).

Examples:
    >>> import torch, initlab
    >>> from torch import nn
    >>> m = nn.Linear(4, 4)                  # plain tensors: the same as initlab.apply_plan
    >>> p = initlab.plan(m, torch.randn(1, 4))
    >>> _ = apply_plan_sharded(m, p, seed=0)
    >>> ref = nn.Linear(4, 4); _ = initlab.apply_plan(ref, p, seed=0)
    >>> torch.equal(m.weight, ref.weight)
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from initlab.errors import InitError
from initlab.model.apply import BLOCK, dtensor_type, write, write_block
from initlab.model.plan import InitPlan, PlanRow, under_pretrained


@dataclass(frozen=True)
class ShardStats:
    """What :func:`apply_plan_sharded` did on this rank.

    Attributes:
        local_values: values written into this rank's shards.
        generated_values: values drawn on this rank (≥ local_values: partial blocks at shard
            ends, whole blocks for Shard(d > 0) and Replicate).
        scattered: rows computed on one rank and scattered (whole-matrix schemes).
        computed_here: of those, the rows this rank computed.
    """

    local_values: int
    generated_values: int
    scattered: tuple[str, ...]
    computed_here: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "local_values": self.local_values,
            "generated_values": self.generated_values,
            "scattered": list(self.scattered),
            "computed_here": list(self.computed_here),
        }


def local_box(t: torch.Tensor) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """(global offsets, local shape) of this rank's part of ``t``: a DTensor whose placements are
    all ``Shard``/``Replicate``, or a plain tensor (the whole box). ``None`` when the local part
    is not a box (``_StridedShard``, ``Partial``).

    Examples:
        >>> local_box(torch.empty(3, 4))
        ((0, 0), (3, 4))
    """
    dt = dtensor_type()
    if dt is None or not isinstance(t, dt):
        return (0,) * t.dim(), tuple(t.shape)
    from torch.distributed.tensor import Replicate, Shard
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

    if not all(type(p) in (Shard, Replicate) for p in t.placements):
        return None
    shape, offset = compute_local_shape_and_global_offset(t.shape, t.device_mesh, t.placements)
    return tuple(offset), tuple(shape)


class _BlockSource:
    """The flat values of one elementwise row, served by range; keeps the last block drawn so
    consecutive ranges that share a block draw it once."""

    def __init__(self, row: PlanRow, seed: int, numel: int, dtype: torch.dtype,
                 device: torch.device) -> None:  # fmt: skip
        self.row, self.seed, self.numel = row, seed, numel
        self.dtype, self.device = dtype, device
        self.cached: tuple[int, torch.Tensor] | None = None
        self.generated = 0

    def block(self, i: int) -> torch.Tensor:
        if self.cached is not None and self.cached[0] == i:
            return self.cached[1]
        n = min(BLOCK, self.numel - i * BLOCK)
        out = write_block(torch.empty(n, dtype=self.dtype, device=self.device), self.row,
                          self.seed, i)  # fmt: skip
        self.generated += n
        self.cached = (i, out)
        return out

    def range(self, start: int, stop: int, out: torch.Tensor) -> None:
        """Write flat values [start, stop) into the 1-D ``out``."""
        pos = start
        while pos < stop:
            i = pos // BLOCK
            end = min(stop, (i + 1) * BLOCK)
            if pos == i * BLOCK and end == min(self.numel, (i + 1) * BLOCK):
                # a whole block: drawn in place, no copy (as apply_plan draws it)
                write_block(out[pos - start : end - start], self.row, self.seed, i)
                self.generated += end - pos
            else:
                out[pos - start : end - start] = self.block(i)[pos - i * BLOCK : end - i * BLOCK]
            pos = end


def _fill_box(local: torch.Tensor, row: PlanRow, seed: int, shape: tuple[int, ...],
              offsets: tuple[int, ...]) -> int:  # fmt: skip
    """Write this rank's box of an elementwise row into ``local``; returns values drawn."""
    src = _BlockSource(row, seed, math.prod(shape), local.dtype, local.device)
    if local.numel() == 0:
        return 0
    if len(shape) == 0:
        buf = torch.empty(1, dtype=local.dtype, device=local.device)
        src.range(0, 1, buf)
        local.copy_(buf.view(()))
        return src.generated
    rest = math.prod(shape[1:])
    o0, l0 = offsets[0], local.shape[0]
    inner = tuple(slice(o, o + n) for o, n in zip(offsets[1:], local.shape[1:], strict=True))
    full_rows = all(o == 0 and n == s for o, n, s in zip(offsets[1:], local.shape[1:],
                                                         shape[1:], strict=True))  # fmt: skip
    if full_rows and local.is_contiguous():  # Shard(0) / whole tensor: one flat range
        src.range(o0 * rest, (o0 + l0) * rest, local.view(-1))
        return src.generated
    rows_per = max(1, BLOCK // max(rest, 1))
    for ra in range(o0, o0 + l0, rows_per):
        rb = min(ra + rows_per, o0 + l0)
        buf = torch.empty((rb - ra) * rest, dtype=local.dtype, device=local.device)
        src.range(ra * rest, rb * rest, buf)
        local[ra - o0 : rb - o0] = buf.view(rb - ra, *shape[1:])[(slice(None), *inner)]
    return src.generated


def _zero_rows(local: torch.Tensor, row: PlanRow, offsets: tuple[int, ...]) -> None:
    for r in row.zero_rows:
        if local.dim() and offsets[0] <= r < offsets[0] + local.shape[0]:
            local[r - offsets[0]].zero_()


def _scatter_whole(t: Any, row: PlanRow, seed: int, turn: int) -> bool:
    """Compute the whole tensor on one rank (chosen by ``turn``) and distribute it into the
    DTensor ``t``. Returns True when this rank computed it."""
    from torch.distributed.tensor import distribute_tensor

    mesh = t.device_mesh
    src = turn % min(mesh.shape)  # the rank at coordinate (src, src, ...) is the source
    coord = mesh.get_coordinate()
    here = coord is not None and all(c == src for c in coord)
    full = torch.empty(tuple(t.shape), dtype=t.dtype, device=t.to_local().device)
    if here:
        write(full, row, seed)  # zero_rows included
    dist = distribute_tensor(full, mesh, t.placements, src_data_rank=src)
    with torch.no_grad():
        t.to_local().copy_(dist.to_local())
    return here


def apply_plan_sharded(
    model: nn.Module, plan: InitPlan, seed: int = 0, *, overwrite: bool = False
) -> ShardStats:
    """Write ``plan`` into a model whose parameters may be DTensors (``fully_shard``,
    ``distribute_tensor``, tensor parallel): the gathered weights equal
    ``initlab.apply_plan(eager_model, plan, seed)`` bit for bit, on any mesh and world size.

    Call it on every rank (collectives are issued for whole-matrix schemes, in plan order).
    Build the plan before sharding, typically on the meta device:
    ``plan = initlab.plan(meta_model, example_input)``. Plain (non-DTensor) tensors are written
    as :func:`initlab.apply_plan` writes them.

    Raises:
        InitError: the plan names a parameter the model lacks or with another global shape; a
            row uses the module's own ``reset_parameters`` (torch's global RNG over the whole
            tensor cannot be sharded: pick an initlab scheme for it with ``rules=``).

    Examples:
        >>> import torch, initlab
        >>> from torch import nn
        >>> with torch.device("meta"):
        ...     m = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> p = initlab.plan(m, torch.randn(1, 8))
        >>> _ = m.to_empty(device="cpu")
        >>> apply_plan_sharded(m, p, seed=0).local_values
        90
    """
    if not isinstance(plan, InitPlan):
        raise InitError(
            "apply_plan_sharded: plan must be an InitPlan (from initlab.plan), got "
            f"{type(plan).__name__}"
        )
    dt_cls = dtensor_type()
    tensors: dict[str, torch.Tensor] = dict(model.named_parameters(remove_duplicate=False))
    tensors.update(dict(model.named_buffers(remove_duplicate=False)))
    modules = dict(model.named_modules())
    local_values = generated = 0
    scattered: list[str] = []
    here: list[str] = []
    for row in plan.rows:
        if not row.written:
            continue
        names = [row.name, *row.aliases]
        targets = [tensors[n] for n in names if n in tensors]
        if not targets:
            raise InitError(
                f"apply_plan_sharded: the plan names {row.name!r} but the model has no such "
                "parameter or buffer; build the plan from this model (initlab.plan)"
            )
        t0 = targets[0]
        if tuple(t0.shape) != tuple(row.shape):
            raise InitError(
                f"apply_plan_sharded: {row.name} has global shape {tuple(t0.shape)} but the plan "
                f"says {tuple(row.shape)}; rebuild the plan for this model"
            )
        if not overwrite and row.tensor == "parameter":  # as apply_plan: frozen, pretrained
            if not t0.requires_grad or under_pretrained(modules, row.module):
                continue
        if row.call[0] == "reset_parameters":
            raise InitError(
                f"apply_plan_sharded: {row.name} is initialized by its module's own "
                "reset_parameters (torch's global RNG over the whole tensor), which cannot be "
                "reproduced shard by shard; give it an initlab scheme, e.g. "
                f"rules=[({row.name!r}, initlab.schemes.normal(0.02))], or use another policy"
            )
        seen: set[int] = set()
        for t in targets:
            if id(t) in seen or t.is_meta:
                continue
            seen.add(id(t))
            is_dt = dt_cls is not None and isinstance(t, dt_cls)
            box = local_box(t)
            with torch.no_grad():
                if not is_dt:
                    write(t, row, seed)
                    local_values += t.numel()
                    generated += t.numel() if row.elementwise else 0
                elif row.elementwise and box is not None:
                    local = t.to_local()
                    generated += _fill_box(local, row, seed, tuple(row.shape), box[0])
                    _zero_rows(local, row, box[0])
                    local_values += local.numel()
                else:
                    if _scatter_whole(t, row, seed, len(scattered)):
                        here.append(row.name)
                    scattered.append(row.name)
                    local_values += t.to_local().numel()
    return ShardStats(local_values, generated, tuple(scattered), tuple(here))


def init_sharded(
    model: nn.Module,
    example_input: Any = None,
    policy: Any = "auto",
    seed: int = 0,
    rules: Any = None,
    *,
    plan: InitPlan | None = None,
) -> InitPlan:
    """Plan (unless ``plan`` is given) and write a possibly sharded model; returns the plan.

    Tracing a model whose parameters are DTensors is not always possible: prefer building the
    plan on the meta model before ``fully_shard`` and passing it as ``plan=``.

    Examples:
        >>> import torch, initlab
        >>> from torch import nn
        >>> m = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2))
        >>> init_sharded(m, torch.randn(1, 8), policy="xavier", seed=1)["0.weight"].scheme.kind
        'xavier'
    """
    import initlab

    if plan is None:
        plan = initlab.plan(model, example_input, policy=policy, rules=rules)
    apply_plan_sharded(model, plan, seed=seed)
    return plan


__all__ = ["ShardStats", "apply_plan_sharded", "init_sharded", "local_box"]
