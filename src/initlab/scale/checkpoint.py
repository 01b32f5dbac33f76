"""Streaming seed checkpoints: the initialized weights of a model that never exists in memory
all at once, written as sharded safetensors with a Hugging Face-style index, or as a torch
Distributed Checkpoint (``format="dcp"``, :mod:`initlab.scale.distcp`).

torchtitan's "seed checkpoint" initializes the whole model on one process and saves it, so that
every parallel layout starts from the same weights. Here the model is built on the meta device
(shapes only), and each tensor is generated and written in turn: elementwise schemes stream
2²⁰-element blocks straight to the file (the blocks :mod:`initlab.model.apply` draws, so the values
are those of ``initlab.init`` with the same seed, bit for bit); whole-matrix schemes (orthogonal)
and modules' own ``reset_parameters`` are computed one tensor (one module) at a time. Peak
memory: the largest such tensor plus one block, never the model.

Files (``out/``)::

    model-00001-of-00003.safetensors ...   standard safetensors (loads with safetensors.torch)
    model.safetensors.index.json            {"metadata": {"total_size", "initlab": {...}},
                                             "weight_map": {name: file}}

The same files load with ``torch.distributed.checkpoint`` through its Hugging Face reader
(``dcp.load(state_dict, storage_reader=HuggingFaceStorageReader(out))``), on one process or on
every rank of an FSDP2 / DTensor model (tested: tests/scale/test_distcp.py).

Crash safety: every shard is written to a temporary name beside it ending in ``.part`` (not
``.safetensors``, which readers that list the directory would pick up) and fsynced; the shards
are renamed to their final names only when all are written, and the index is written last, the
same way. A directory without the index is not a checkpoint: an interrupted write never leaves
one that looks complete, nor a shard file. With ``overwrite=True`` the old index and the old
shards are removed before the first new byte is written (no mix of old and new shards).

Tied weights are stored once, under the plan's name (the smallest alias), like Hugging Face's
``save_pretrained``; the index lists the aliases and :func:`load_seed_checkpoint` fills them.

Examples:
    >>> import tempfile, torch, initlab
    >>> from torch import nn
    >>> with torch.device("meta"):
    ...     m = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> p = initlab.plan(m, torch.randn(1, 8))
    >>> d = tempfile.mkdtemp()
    >>> ck = write_seed_checkpoint(m, p, d + "/ckpt", seed=0)
    >>> ck.tensors, ck.files
    (4, ('model-00001-of-00001.safetensors',))
    >>> eager = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> _ = load_seed_checkpoint(eager, d + "/ckpt")
    >>> ref = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> _ = initlab.apply_plan(ref, p, seed=0)
    >>> torch.equal(eager[0].weight, ref[0].weight)
    True
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import torch
from torch import nn

from initlab.errors import InitError
from initlab.files import atomic_output
from initlab.model.apply import BLOCK, write, write_block
from initlab.model.own_init import META_FROZEN, own_init_values
from initlab.model.plan import InitPlan, PlanRow

INDEX_NAME = "model.safetensors.index.json"
#: Default largest shard file (bytes), as Hugging Face's ``max_shard_size="5GB"``.
DEFAULT_MAX_SHARD_BYTES = 5 * 10**9
#: What :func:`write_seed_checkpoint` writes: safetensors + index, or torch DCP.
FORMATS = ("safetensors", "dcp")

_ST_DTYPES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}  # fmt: skip


@dataclass(frozen=True)
class SeedCheckpoint:
    """What :func:`write_seed_checkpoint` wrote.

    Attributes:
        path: the directory.
        files: data file names, in order (shards, or DCP's ``__0_k.distcp``).
        tensors: tensors stored (safetensors: tied weights once; DCP: under every name).
        total_bytes: bytes of tensor data (the index's ``total_size``).
        largest_materialized_bytes: the largest tensor held whole in memory (whole-matrix
            schemes, module defaults, copied values; with DCP every tensor); streamed tensors
            count one block.
        seed: the seed.
        format: ``"safetensors"`` or ``"dcp"``.
    """

    path: str
    files: tuple[str, ...]
    tensors: int
    total_bytes: int
    largest_materialized_bytes: int
    seed: int
    format: str = "safetensors"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "files": list(self.files),
            "tensors": self.tensors,
            "total_bytes": self.total_bytes,
            "largest_materialized_bytes": self.largest_materialized_bytes,
            "seed": self.seed,
            "format": self.format,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


@dataclass(frozen=True)
class _Entry:
    name: str
    shape: tuple[int, ...]
    dtype: torch.dtype
    row: PlanRow | None
    source: torch.Tensor  # the model's tensor (meta, or real when the model is materialized)
    module: str

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * torch.empty((), dtype=self.dtype).element_size()


def _parse_size(size: int | str) -> int:
    if isinstance(size, int):
        return size
    units = {"KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30,
             "B": 1}  # fmt: skip
    text = str(size).strip().upper()
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            try:
                return int(float(text[: -len(unit)]) * units[unit])
            except ValueError:
                break
    try:
        return int(text)
    except ValueError:
        raise InitError(
            f"max_shard_size: {size!r} is not a size; write bytes or e.g. '5GB', '500MB'"
        ) from None


def _entries(
    model: nn.Module, plan: InitPlan, *, safetensors: bool = True
) -> tuple[list[_Entry], dict[str, list[str]]]:
    """One entry per stored tensor (state-dict order, tied names once); aliases by name.
    ``safetensors``: refuse dtypes safetensors cannot store (DCP stores any)."""
    rows: dict[str, PlanRow] = {}
    for r in plan.rows:
        for n in (r.name, *r.aliases):
            rows[n] = r
    state = model.state_dict(keep_vars=True)
    entries: list[_Entry] = []
    aliases: dict[str, list[str]] = {}
    missing: list[str] = []
    seen: dict[int, str] = {}
    for name, t in state.items():
        row = rows.get(name)
        primary = row.name if row is not None else seen.get(id(t), name)
        if primary != name:
            aliases.setdefault(primary, []).append(name)
            continue
        seen[id(t)] = name
        if tuple(t.shape) != (tuple(row.shape) if row is not None else tuple(t.shape)):
            raise InitError(
                f"write_seed_checkpoint: {name} has shape {tuple(t.shape)} but the plan says "
                f"{tuple(row.shape)}; rebuild the plan for this model"  # type: ignore[union-attr]
            )
        if safetensors and t.dtype not in _ST_DTYPES:
            raise InitError(f"write_seed_checkpoint: {name} has dtype {t.dtype}, which "
                            "safetensors cannot store")  # fmt: skip
        meta_frozen = row is not None and row.status == "frozen" and META_FROZEN in row.reason
        written = row is not None and (row.written or meta_frozen)
        if not written and t.is_meta:
            missing.append(name)
        module = row.module if row is not None else name.rpartition(".")[0]
        entries.append(_Entry(name, tuple(t.shape), t.dtype, row if written else None, t, module))
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        shown = ", ".join(missing[:5]) + more
        raise InitError(
            f"write_seed_checkpoint: {shown} {'is' if len(missing) == 1 else 'are'} not "
            "written by the plan (kept, frozen, pretrained or skipped) and has no values on the "
            "meta device; add a rule for it (rules=[(name, initlab.schemes.zeros())]) or pass "
            "overwrite=True to initlab.plan, or build the model on a real device"
        )
    return entries, aliases


class _ModuleDefaults:
    """Modules' own init (:func:`initlab.model.own_init.own_init_values`: ``reset_parameters``
    or a Hugging Face model's ``_init_weights``, seeded as :func:`initlab.apply_plan` seeds it)
    run on a CPU copy of one module at a time, so a checkpoint of a meta model holds their
    values."""

    def __init__(self, model: nn.Module, seed: int) -> None:
        self.model, self.seed = model, seed
        self.current: tuple[str, dict[str, torch.Tensor]] | None = None

    def get(self, module: str, name: str) -> torch.Tensor:
        if self.current is None or self.current[0] != module:
            self.current = None  # free the previous module first
            self.current = (module, own_init_values(self.model, module, self.seed))
        return self.current[1][name]


def _stream(entry: _Entry, seed: int, defaults: _ModuleDefaults) -> Iterator[torch.Tensor]:
    """The tensor's values as contiguous CPU chunks, in row-major order."""
    row = entry.row
    if row is None:  # not written by the plan: the model's own (real) values
        yield entry.source.detach().to("cpu").contiguous()
        return
    if row.call[0] == "reset_parameters":
        yield defaults.get(row.module, entry.name).contiguous()
        return
    if not row.elementwise:
        full = torch.empty(entry.shape, dtype=entry.dtype)
        write(full, row, seed)
        yield full
        return
    n = math.prod(entry.shape)
    rest = math.prod(entry.shape[1:]) if entry.shape else 1
    for i, start in enumerate(range(0, n, BLOCK)):
        block = write_block(torch.empty(min(BLOCK, n - start), dtype=entry.dtype), row, seed, i)
        for r in row.zero_rows:  # rows zeroed after drawing, as apply's write does
            lo, hi = max(r * rest, start), min((r + 1) * rest, start + block.numel())
            if lo < hi:
                block[lo - start : hi - start] = 0
        yield block


def _header(entries: list[_Entry], metadata: dict[str, str]) -> bytes:
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    for e in entries:
        header[e.name] = {
            "dtype": _ST_DTYPES[e.dtype],
            "shape": list(e.shape),
            "data_offsets": [offset, offset + e.nbytes],
        }
        offset += e.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the data starts 8-byte aligned, as safetensors writes it
    return struct.pack("<Q", len(raw)) + raw


def _write_bytes(f: BinaryIO, t: torch.Tensor) -> None:
    if t.numel():
        f.write(t.contiguous().view(-1).view(torch.uint8).numpy().data)


def _atomic_write(path: Path, fill: Any) -> None:
    """Write ``path`` through a temporary file beside it (:func:`initlab.files.atomic_output`:
    removed on any failure, an interrupt included), fsynced before the rename."""
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        fill(f)
        f.flush()
        os.fsync(f.fileno())


def _check_out(path: Path, overwrite: bool) -> Path:
    if path.exists() and not path.is_dir():
        raise InitError(f"--out {path}: is a file; a seed checkpoint is a directory")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise InitError(
            f"--out {path}: directory is not empty; choose a new directory or pass --force "
            "(overwrite=True) to replace the checkpoint in it"
        )
    return path


def _remove_checkpoint_files(path: Path) -> None:
    """Before a rewrite: the completion markers first (from then on the directory does not look
    complete), then the data files of either format (so no reader mixes old and new shards)."""
    from initlab.scale.distcp import METADATA_NAME

    for marker in (INDEX_NAME, METADATA_NAME):
        if (path / marker).exists():
            (path / marker).unlink()
    for old in (*path.glob("model-*-of-*.safetensors"), *path.glob("__*.distcp")):
        old.unlink()


def _split(entries: list[_Entry], limit: int) -> list[list[_Entry]]:
    """Entries in order, cut into shards of at most ``limit`` bytes (a larger tensor alone)."""
    if limit <= 0:
        raise InitError(f"max_shard_size must be positive, got {limit}")
    shards: list[list[_Entry]] = [[]]
    size = 0
    for e in entries:
        if shards[-1] and size + e.nbytes > limit:
            shards.append([])
            size = 0
        shards[-1].append(e)
        size += e.nbytes
    return shards


def _write_entry(f: BinaryIO, e: _Entry, seed: int, defaults: _ModuleDefaults) -> int:
    """Stream one tensor's bytes; returns the largest chunk held (bytes)."""
    written = largest = 0
    for chunk in _stream(e, seed, defaults):
        if chunk.dtype != e.dtype or chunk.numel() + written > math.prod(e.shape):
            raise InitError(f"write_seed_checkpoint: {e.name}: internal size error")
        _write_bytes(f, chunk)
        written += chunk.numel()
        largest = max(largest, chunk.numel() * chunk.element_size())
    if written != math.prod(e.shape):
        raise InitError(f"write_seed_checkpoint: {e.name}: wrote {written} values "
                        f"of {math.prod(e.shape)}")  # fmt: skip
    return largest


def write_seed_checkpoint(
    model: nn.Module,
    plan: InitPlan,
    out: str | os.PathLike[str],
    seed: int = 0,
    *,
    max_shard_size: int | str = DEFAULT_MAX_SHARD_BYTES,
    overwrite: bool = False,
    format: str = "safetensors",
) -> SeedCheckpoint:
    """Write the weights ``initlab.apply_plan(model, plan, seed)`` would give, tensor by tensor,
    as sharded safetensors + ``model.safetensors.index.json`` in the directory ``out``, or with
    ``format="dcp"`` as a torch Distributed Checkpoint (``.metadata`` + ``__0_k.distcp``;
    :mod:`initlab.scale.distcp`).

    ``model`` is usually on the meta device (only names, shapes and dtypes are read); tensors
    the plan does not write are copied from the model, so they must have values (InitError
    otherwise).

    Args:
        model: the model (meta or real).
        plan: its plan (``initlab.plan(model, example_input, ...)``).
        out: the checkpoint directory (created; must be empty unless ``overwrite``).
        seed: the seed (same seed ⇒ the same values as ``initlab.init``).
        max_shard_size: largest shard, bytes or a string such as ``"5GB"`` (a tensor larger
            than that gets a shard of its own); safetensors only.
        overwrite: replace the checkpoint files already in ``out``.
        format: ``"safetensors"`` (peak memory: one 4 MiB block per streamed tensor) or
            ``"dcp"`` (peak memory: the largest tensor; loads with
            ``torch.distributed.checkpoint.load``).

    Raises:
        InitError: ``out`` is a file or not empty, an unparsable size, an unknown format, a
            tensor without values.

    Examples:
        >>> import tempfile, torch, initlab
        >>> with torch.device("meta"):
        ...     m = torch.nn.Linear(4, 4)
        >>> p = initlab.plan(m, torch.randn(1, 4))
        >>> write_seed_checkpoint(m, p, tempfile.mkdtemp() + "/c").total_bytes
        80
    """
    if not isinstance(plan, InitPlan):
        raise InitError(
            "write_seed_checkpoint: plan must be an InitPlan (from initlab.plan), got "
            f"{type(plan).__name__}"
        )
    if format not in FORMATS:
        raise InitError(
            f"write_seed_checkpoint: format {format!r} is not one of {', '.join(FORMATS)} "
            "(--format safetensors or --format dcp)"
        )
    limit = _parse_size(max_shard_size)
    path = _check_out(Path(out), overwrite)
    if format == "dcp":
        from initlab.scale.distcp import write_dcp

        entries, aliases = _entries(model, plan, safetensors=False)
        path.mkdir(parents=True, exist_ok=True)
        _remove_checkpoint_files(path)
        files, count, total, largest = write_dcp(model, entries, aliases, path, seed)
        return SeedCheckpoint(str(path), files, count, total, largest, seed, "dcp")
    entries, aliases = _entries(model, plan)
    path.mkdir(parents=True, exist_ok=True)
    _remove_checkpoint_files(path)
    shards = _split(entries, limit)
    n = len(shards)
    files = tuple(f"model-{i + 1:05d}-of-{n:05d}.safetensors" for i in range(n))
    defaults = _ModuleDefaults(model, seed)
    largest = 0
    meta = {"format": "pt", "initlab.seed": str(seed)}

    # every shard under a temporary ".part" name; all renamed when the last is written (the
    # stack's exits), or all removed on any failure
    with contextlib.ExitStack() as stack:
        for fname, shard in zip(files, shards, strict=True):
            tmp = stack.enter_context(atomic_output(path / fname, suffix=".part"))
            with open(tmp, "wb") as f:
                f.write(_header(shard, meta))
                for e in shard:
                    largest = max(largest, _write_entry(f, e, seed, defaults))
                f.flush()
                os.fsync(f.fileno())

    total = sum(e.nbytes for e in entries)
    index = {
        "metadata": {
            "total_size": total,
            "initlab": {"seed": seed, "policy": plan.policy, "aliases": aliases},
        },
        "weight_map": {e.name: f for f, shard in zip(files, shards, strict=True) for e in shard},
    }
    _atomic_write(path / INDEX_NAME, lambda f: f.write(json.dumps(index, indent=2).encode()))
    return SeedCheckpoint(str(path), files, len(entries), total, largest, seed)


def load_seed_checkpoint(
    model: nn.Module, path: str | os.PathLike[str], *, strict: bool = True
) -> list[str]:
    """Copy a checkpoint written by :func:`write_seed_checkpoint` (or any sharded safetensors
    checkpoint with an index) into ``model``, one tensor at a time; tied aliases are filled
    too. A model on the meta device gets the tensors assigned (materialized on the CPU). A
    directory with DCP's ``.metadata`` (and no index) is loaded with
    :func:`initlab.scale.distcp.load_dcp_checkpoint`.

    Returns:
        The names loaded.

    Raises:
        InitError: no index (the write did not finish, or not a checkpoint), a name the model
            lacks or a shape that differs, and with ``strict`` a model tensor the checkpoint
            lacks.

    Examples:
        >>> import torch
        >>> load_seed_checkpoint(torch.nn.Linear(2, 2), "/nonexistent")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        initlab.errors.InitError: ...no model.safetensors.index.json...
    """
    from safetensors import safe_open

    from initlab.scale.distcp import METADATA_NAME, load_dcp_checkpoint

    root = Path(path)
    index_path = root / INDEX_NAME
    if not index_path.is_file() and (root / METADATA_NAME).is_file():
        return load_dcp_checkpoint(model, root, strict=strict)
    if not index_path.is_file():
        raise InitError(
            f"load_seed_checkpoint: {root} has no {INDEX_NAME} (nor DCP's {METADATA_NAME}): not "
            "a complete checkpoint (an interrupted write leaves none); write it again with "
            "initlab init --meta --out"
        )
    index = json.loads(index_path.read_text())
    aliases: dict[str, list[str]] = index.get("metadata", {}).get("initlab", {}).get("aliases", {})
    state = model.state_dict(keep_vars=True)
    by_file: dict[str, list[str]] = {}
    for name, fname in index["weight_map"].items():
        by_file.setdefault(fname, []).append(name)
    loaded: list[str] = []
    assigned: dict[int, torch.Tensor] = {}  # id(meta tensor) → its materialized replacement
    for fname, names in by_file.items():
        with safe_open(str(root / fname), framework="pt") as f:
            for name in names:
                value = f.get_tensor(name)
                for target_name in (name, *aliases.get(name, [])):
                    _assign(model, state, target_name, value, assigned)
                    loaded.append(target_name)
    if strict:
        missing = sorted(set(state) - set(loaded))
        if missing:
            raise InitError(
                f"load_seed_checkpoint: the checkpoint lacks {', '.join(missing[:5])}; pass "
                "strict=False to load the rest"
            )
    return loaded


def _assign(
    model: nn.Module,
    state: dict[str, torch.Tensor],
    name: str,
    value: torch.Tensor,
    assigned: dict[int, torch.Tensor],
) -> None:
    """Copy ``value`` into the model's tensor ``name``; a meta tensor is replaced, once per
    tensor: its other names (tied weights) get the same replacement, so they stay tied."""
    t = state.get(name)
    if t is None:
        raise InitError(f"load_seed_checkpoint: the model has no tensor {name!r}")
    if tuple(t.shape) != tuple(value.shape):
        raise InitError(
            f"load_seed_checkpoint: {name} has shape {tuple(t.shape)} in the model but "
            f"{tuple(value.shape)} in the checkpoint"
        )
    with torch.no_grad():
        if t.is_meta:
            mod_name, _, local = name.rpartition(".")
            owner = model.get_submodule(mod_name) if mod_name else model
            new = assigned.get(id(t))
            if local in owner._parameters:
                if new is None:
                    new = nn.Parameter(value.to(t.dtype), requires_grad=t.requires_grad)
                owner._parameters[local] = new  # type: ignore[assignment]
            else:
                if new is None:
                    new = value.to(t.dtype)
                owner._buffers[local] = new
            assigned[id(t)] = new
            state[name] = new
        else:
            t.copy_(value)


__all__ = [
    "DEFAULT_MAX_SHARD_BYTES",
    "FORMATS",
    "INDEX_NAME",
    "SeedCheckpoint",
    "load_seed_checkpoint",
    "write_seed_checkpoint",
]
