"""Worker for tests/scale/test_distcp.py: each forked rank of a gloo group of 2 loads the seed
checkpoints into an FSDP2 (``fully_shard``) model with ``torch.distributed.checkpoint.load``,
the way torchtitan loads its seed checkpoint, and checks its own shards against the
single-process ``initlab.init`` weights."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def run(rank: int, world: int, store: str, dcp_dir: str, st_dir: str,
        ref: dict[str, torch.Tensor]) -> None:  # fmt: skip
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint import HuggingFaceStorageReader
    from torch.distributed.device_mesh import DeviceMesh
    from torch.distributed.fsdp import fully_shard

    from initlab.lab import zoo
    from initlab.scale import local_box

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        mesh = DeviceMesh("cpu", list(range(world)))
        for what, kwargs in (("dcp", {"checkpoint_id": dcp_dir}),
                             ("safetensors", {"storage_reader":
                                              HuggingFaceStorageReader(st_dir)})):  # fmt: skip
            with torch.device("meta"):
                m = zoo.tiny_llama()
            for block in m.layers:
                fully_shard(block, mesh=mesh)
            fully_shard(m, mesh=mesh)
            m.to_empty(device="cpu")
            with torch.no_grad():
                for p in m.parameters():
                    p.to_local().fill_(float("nan"))  # nothing left from to_empty passes
            sd = {k: v for k, v in m.state_dict().items() if k in ref}
            dcp.load(sd, **kwargs)
            for name, p in m.named_parameters():
                offsets, shape = local_box(p)
                box = tuple(slice(o, o + n) for o, n in zip(offsets, shape, strict=True))
                assert p.to_local().numel() == 0 or torch.equal(p.to_local(), ref[name][box]), (
                    f"rank {rank}, {what}: {name} differs")
        dist.barrier()
    finally:
        dist.destroy_process_group()
