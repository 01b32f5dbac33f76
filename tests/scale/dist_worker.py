"""Worker run in each spawned process by tests/scale/test_sharded.py (gloo on CPU).

One spawn of 4 processes checks world sizes 1, 2, 3 and 4 (a sub-mesh of the first W ranks
each), so the cost of starting processes and importing torch is paid once. Each rank checks its
own shard against the same box of the single-process reference: every element of every
parameter lies in some rank's box, so all of it is checked without gathering.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import nn

import initlab
from initlab.errors import InitError
from initlab.scale import apply_plan_sharded, local_box


class Net(nn.Module):
    """``big`` has 45 838·24 = 1 100 112 > 2²⁰ values (two blocks), its rows split unevenly
    across 3 ranks; an orthogonal matrix (scattered), an embedding with a padding row (zeroed
    per shard), a truncated-normal head, vectors."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(50, 24, padding_idx=7)
        self.big = nn.Linear(24, 45_838)
        self.rec = nn.Linear(96, 96, bias=False)
        self.head = nn.Linear(96, 10)
        self.norm = nn.LayerNorm(96)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.big(self.emb(idx)))[..., :96]
        return self.head(self.norm(torch.tanh(self.rec(h))))


RULES = [("rec.weight", initlab.schemes.orthogonal(1.0)),
         ("head.weight", initlab.schemes.truncated_normal(0.02))]  # fmt: skip
SEED = 3


def reference(seed: int = SEED, device: str = "cpu") -> tuple[initlab.InitPlan,
                                                               dict[str, torch.Tensor]]:
    """The plan (traced on the meta model) and the single-process weights on ``device``."""
    with torch.device("meta"):
        m = Net()
    p = initlab.plan(m, torch.zeros(2, 3, dtype=torch.long), rules=RULES)
    m.to_empty(device=device)
    initlab.apply_plan(m, p, seed=seed)
    return p, {k: v.detach().clone() for k, v in m.state_dict().items()}


def _dtensor_model(mesh, placement, device: str = "cpu") -> nn.Module:  # type: ignore[no-untyped-def]
    """Net with every parameter a DTensor on ``mesh`` (1-D tensors Shard(0) for Shard(1)),
    built from uninitialized (NaN) local shards without communication."""
    from torch.distributed.tensor import DTensor, Shard
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

    with torch.device("meta"):
        m = Net()
    for mod in m.modules():
        for name, p in list(mod.named_parameters(recurse=False)):
            pl = Shard(0) if placement == Shard(1) and p.dim() == 1 else placement
            shape, _ = compute_local_shape_and_global_offset(p.shape, mesh, [pl])
            local = torch.full(shape, float("nan"), device=device)
            d = DTensor.from_local(local, mesh, [pl], run_check=False, shape=p.shape,
                                   stride=p.stride())  # fmt: skip
            setattr(mod, name, nn.Parameter(d))
    return m


def _check(m: nn.Module, ref: dict[str, torch.Tensor], what: str) -> None:
    for name, p in m.named_parameters():
        offsets, shape = local_box(p)
        box = tuple(slice(o, o + n) for o, n in zip(offsets, shape, strict=True))
        assert torch.equal(p.to_local(), ref[name][box]), f"{what}: {name} differs"


def run(rank: int, world: int, store_path: str, plan: initlab.InitPlan | None,
        ref: dict[str, torch.Tensor] | None, device: str = "cpu") -> None:  # fmt: skip
    """Check world sizes 1..world on sub-meshes. ``device="cuda"``: nccl, one GPU per rank, the
    reference drawn on the same GPU (CUDA generators differ from CPU ones)."""
    from torch.distributed.device_mesh import DeviceMesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor import Replicate, Shard

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    backend = "gloo"
    if device == "cuda":
        torch.cuda.set_device(rank)
        device, backend = f"cuda:{rank}", "nccl"
    dist.init_process_group(backend, init_method=f"file://{store_path}", rank=rank,
                            world_size=world)  # fmt: skip
    try:
        if plan is None or ref is None:
            plan, ref = reference(device=device)
        total = sum(v.numel() for v in ref.values())
        for w in range(1, world + 1):
            # every rank takes part in new_group
            mesh = DeviceMesh(device.split(":")[0], list(range(w)))
            if rank < w:
                for placement in (Shard(0), Shard(1), Replicate()):
                    m = _dtensor_model(mesh, placement, device)
                    stats = apply_plan_sharded(m, plan, seed=SEED)
                    _check(m, ref, f"world {w}, {placement}")
                    try:  # the plain writer refuses DTensors instead of drawing other values
                        initlab.apply_plan(m, plan, seed=SEED)
                        raise AssertionError("apply_plan accepted DTensor parameters")
                    except InitError as e:
                        assert "apply_plan_sharded" in str(e)
                    assert stats.scattered == ("rec.weight",)
                    if placement == Shard(0) and w > 1:  # ~1/W of the values + ≤ 2 blocks
                        assert stats.generated_values <= total / w + 2 * (1 << 20)
                # FSDP2: fully_shard on the meta model, to_empty, write.
                with torch.device("meta"):
                    m = Net()
                fully_shard(m.big, mesh=mesh)
                fully_shard(m, mesh=mesh)
                m.to_empty(device=device)
                apply_plan_sharded(m, plan, seed=SEED)
                _check(m, ref, f"world {w}, fully_shard")
            dist.barrier()
    finally:
        dist.destroy_process_group()
