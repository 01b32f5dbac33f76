"""Seed checkpoints in torch Distributed Checkpoint (DCP) format, written one tensor at a time.

torchtitan and other FSDP2 / tensor-parallel trainers load their seed checkpoint with
``torch.distributed.checkpoint.load``, each rank reading only its shard. This module writes that
format natively (``.metadata`` + ``__0_k.distcp`` files) through DCP's own public API:
``dcp.save`` with a :class:`~torch.distributed.checkpoint.FileSystemWriter` and a save planner
whose ``resolve_data`` generates each tensor when DCP asks for it. The state dict handed to
``dcp.save`` holds only meta tensors (shapes, dtypes), so the model never exists in memory.

Memory: DCP serializes a tensor with ``torch.save``, which needs the whole tensor, so the bound
is the largest tensor (plus one 4 MiB block while it is drawn and allocator slack), not one
block as for safetensors (:mod:`initlab.scale.checkpoint`). Streaming below one tensor would
need torch-private classes (``filesystem._StorageInfo``) and the prototype
``torch.serialization.skip_data``; not done. The writer runs with one file per tensor
(``single_file_per_rank=False``): in DCP's default one-file mode its writer keeps every tensor of
a file referenced until the file is closed, which would hold the whole model.

Values: each tensor comes from the same generator as :func:`initlab.apply_plan`
(:func:`initlab.scale.checkpoint._stream`), so they are those of ``initlab.init`` with the same
seed, bit for bit. Tied weights are stored under every name (DCP has no aliases; a
``model.state_dict()`` lists both), as ``dcp.save(model.state_dict())`` stores them.

Crash safety: DCP writes the ``.metadata`` file last, through ``.metadata.tmp`` + fsync +
rename; the data files are fsynced first. Without ``.metadata`` a directory is not a DCP
checkpoint (``dcp.load`` and :func:`initlab.scale.load_seed_checkpoint` refuse it), so an
interrupted write never leaves one that looks complete. With ``overwrite=True`` the old
``.metadata`` (and any safetensors index) is removed before the first byte is written.

Examples:
    >>> import tempfile, torch, initlab
    >>> import torch.distributed.checkpoint as dcp
    >>> from initlab.scale import write_seed_checkpoint
    >>> with torch.device("meta"):
    ...     m = torch.nn.Linear(4, 4)
    >>> p = initlab.plan(m, torch.randn(1, 4))
    >>> d = tempfile.mkdtemp() + "/ckpt"
    >>> ck = write_seed_checkpoint(m, p, d, seed=0, format="dcp")
    >>> ck.files
    ('__0_0.distcp', '__0_1.distcp')
    >>> ref = torch.nn.Linear(4, 4)
    >>> _ = initlab.apply_plan(ref, p, seed=0)
    >>> eager = torch.nn.Linear(4, 4)
    >>> dcp.load(eager.state_dict(), checkpoint_id=d, no_dist=True)  # DCP itself, in place
    >>> torch.equal(eager.weight, ref.weight)
    True
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from initlab.errors import InitError

#: The file whose presence makes a directory a DCP checkpoint (written last).
METADATA_NAME = ".metadata"


def _dcp() -> Any:
    try:
        import torch.distributed.checkpoint as dcp
    except ImportError:  # torch built without torch.distributed
        raise InitError(
            "format='dcp' needs torch.distributed (this torch build has none); write "
            "safetensors instead (format='safetensors')"
        ) from None
    return dcp


def _unwrap(e: BaseException) -> BaseException:
    """DCP wraps what a rank raised (KeyboardInterrupt and our InitError included) in a
    ``CheckpointException``; the first rank's own exception, so an interrupt stays an
    interrupt and an error keeps its message."""
    failures = getattr(e, "failures", None) or {}
    for pair in failures.values():
        exc = pair[0] if isinstance(pair, tuple) else pair
        if isinstance(exc, BaseException):
            return exc
    return e


def _values(entry: Any, seed: int, defaults: Any) -> torch.Tensor:
    """The whole tensor of one entry, from the same chunks the safetensors writer streams."""
    from initlab.scale import checkpoint as ck

    n = math.prod(entry.shape)
    chunks = ck._stream(entry, seed, defaults)
    first = next(chunks, None)
    if first is None:  # an empty tensor streams no block
        return torch.empty(entry.shape, dtype=entry.dtype)
    if first.numel() == n:  # one chunk: already the whole tensor (no second copy)
        out = first.reshape(entry.shape)
    else:
        flat = torch.empty(n, dtype=entry.dtype)
        flat[: first.numel()] = first.reshape(-1)
        at = first.numel()
        del first
        for chunk in chunks:
            flat[at : at + chunk.numel()] = chunk.reshape(-1)
            at += chunk.numel()
        if at != n:
            raise InitError(f"write_seed_checkpoint: {entry.name}: wrote {at} values of {n}")
        out = flat.view(entry.shape)
    if out.dtype != entry.dtype:
        raise InitError(f"write_seed_checkpoint: {entry.name}: internal dtype error")
    return out if out.is_contiguous() else out.contiguous()


def write_dcp(
    model: nn.Module, entries: list[Any], aliases: dict[str, list[str]], path: Path, seed: int
) -> tuple[tuple[str, ...], int, int, int]:
    """Write the DCP checkpoint of ``entries`` (called by
    :func:`initlab.scale.write_seed_checkpoint` with ``format="dcp"``, which checked ``path``
    and removed an old checkpoint). Returns (data files, tensors, bytes, largest tensor's
    bytes)."""
    from initlab.scale import checkpoint as ck

    dcp = _dcp()
    from torch.distributed.checkpoint import DefaultSavePlanner, FileSystemWriter

    by_name = {e.name: e for e in entries}
    for primary, names in aliases.items():
        for a in names:
            by_name[a] = by_name[primary]
    defaults = ck._ModuleDefaults(model, seed)

    class _SeedPlanner(DefaultSavePlanner):  # type: ignore[misc]
        """Generates each tensor when DCP's writer asks for it (one at a time)."""

        def resolve_data(self, write_item: Any) -> torch.Tensor:
            return _values(by_name[write_item.index.fqn], seed, defaults)

    # meta placeholders: DCP plans from shapes and dtypes; resolve_data supplies the values
    state = {name: torch.empty(e.shape, dtype=e.dtype, device="meta")
             for name, e in by_name.items()}  # fmt: skip
    writer = FileSystemWriter(
        str(path),
        single_file_per_rank=False,  # one file per tensor: the writer frees each after writing
        sync_files=True,
        thread_count=1,
        per_thread_copy_ahead=0,  # no prefetch: one tensor in memory at a time
        overwrite=False,  # write_seed_checkpoint removed any old .metadata
    )
    with warnings.catch_warnings():  # "assuming the intent is to save in a single process"
        warnings.filterwarnings("ignore", message=".*single process.*")
        try:
            meta = dcp.save(state, storage_writer=writer, planner=_SeedPlanner(), no_dist=True)
        except dcp.CheckpointException as e:
            raise _unwrap(e) from None
    files = sorted({info.relative_path for info in meta.storage_data.values()},
                   key=lambda f: int(f.rsplit("_", 1)[1].split(".")[0]))  # fmt: skip
    total = sum(e.nbytes for e in by_name.values())
    largest = max((e.nbytes for e in entries), default=0)
    return tuple(files), len(by_name), total, largest


def load_dcp_checkpoint(
    model: nn.Module, path: str | os.PathLike[str], *, strict: bool = True
) -> list[str]:
    """Load a DCP checkpoint (``.metadata`` + ``*.distcp``, from :func:`write_seed_checkpoint`
    with ``format="dcp"`` or any ``dcp.save``) into ``model`` in this process, through
    ``torch.distributed.checkpoint.load`` without a process group. A model on the meta device
    gets CPU tensors assigned (tied weights stay tied). :func:`initlab.scale.load_seed_checkpoint`
    calls this for a DCP directory.

    Sharded models (FSDP2 / DTensor) load it on every rank with DCP itself:
    ``dcp.load(model.state_dict(), checkpoint_id=path)``.

    Returns:
        The names loaded.

    Raises:
        InitError: no ``.metadata`` (not a complete checkpoint), a shape that differs, and with
            ``strict`` a model tensor the checkpoint lacks.

    Examples:
        >>> load_dcp_checkpoint(torch.nn.Linear(2, 2), "/nonexistent")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        initlab.errors.InitError: ...no .metadata...
    """
    from initlab.scale.checkpoint import _assign

    dcp = _dcp()
    from torch.distributed.checkpoint import DefaultLoadPlanner, FileSystemReader

    root = Path(path)
    if not (root / METADATA_NAME).is_file():
        raise InitError(
            f"load_seed_checkpoint: {root} has no {METADATA_NAME}: not a complete DCP checkpoint "
            "(an interrupted write leaves none); write it again with initlab init --meta --out "
            "--format dcp"
        )
    stored = FileSystemReader(str(root)).read_metadata().state_dict_metadata
    state = model.state_dict(keep_vars=True)
    wanted: dict[str, torch.Tensor] = {}
    real: dict[int, torch.Tensor] = {}  # id(meta tensor) → its CPU stand-in (ties kept)
    missing = []
    for name, t in state.items():
        md = stored.get(name)
        if md is None:
            missing.append(name)
            continue
        size = getattr(md, "size", None)
        if size is None:
            raise InitError(f"load_seed_checkpoint: {name} is not a tensor in {root}")
        if tuple(size) != tuple(t.shape):
            raise InitError(
                f"load_seed_checkpoint: {name} has shape {tuple(t.shape)} in the model but "
                f"{tuple(size)} in the checkpoint"
            )
        if t.is_meta:
            wanted[name] = real.setdefault(id(t), torch.empty(t.shape, dtype=t.dtype))
        else:
            wanted[name] = t.detach()
    if strict and missing:
        raise InitError(
            f"load_seed_checkpoint: the checkpoint lacks {', '.join(missing[:5])}; pass "
            "strict=False to load the rest"
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*single process.*")
        try:
            dcp.load(wanted, checkpoint_id=str(root), no_dist=True,
                     planner=DefaultLoadPlanner(allow_partial_load=False))  # fmt: skip
        except dcp.CheckpointException as e:
            cause = _unwrap(e)
            if not isinstance(cause, Exception):
                raise cause from None
            raise InitError(
                f"load_seed_checkpoint: DCP could not read {root}: {type(cause).__name__}: "
                f"{cause}; write the checkpoint again"
            ) from None
    assigned: dict[int, torch.Tensor] = {}
    for name, value in wanted.items():
        if state[name].is_meta:
            _assign(model, state, name, value, assigned)
    return list(wanted)


__all__ = ["METADATA_NAME", "load_dcp_checkpoint", "write_dcp"]
