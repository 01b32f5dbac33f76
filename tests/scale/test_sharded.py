"""Sharded init is bit-identical to single-process init: a real gloo process group of 4 spawned
processes checks world sizes 1-4 (sub-meshes), Shard(0) / Shard(1) / Replicate and FSDP2
``fully_shard`` (the checks are in tests/scale/dist_worker.py)."""

from __future__ import annotations

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

import initlab
from initlab.errors import InitError
from initlab.scale import apply_plan_sharded, local_box

from . import dist_worker

pytestmark = pytest.mark.skipif(
    not torch.distributed.is_available(), reason="torch built without torch.distributed"
)


def test_sharded_matches_single_process_world_1_to_4(tmp_path):
    """Forked (not spawned) processes: they inherit torch.distributed.tensor already imported
    (importing it, sympy included, costs ~5 s per process on 2 cores). Only gloo runs in them."""
    import torch.distributed.fsdp
    import torch.distributed.tensor  # noqa: F401

    plan, ref = dist_worker.reference()
    mp.start_processes(dist_worker.run, args=(4, str(tmp_path / "store"), plan, ref), nprocs=4,
                       join=True, start_method="fork")  # fmt: skip


@pytest.mark.skipif(
    not torch.cuda.is_available() or not torch.distributed.is_nccl_available(),
    reason="no CUDA device here: the nccl/CUDA-tensor variant of the bit-identity check runs "
    "only on a machine with GPUs (one rank per GPU)",
)
def test_sharded_cuda_matches_single_process(tmp_path):
    world = torch.cuda.device_count()
    mp.spawn(dist_worker.run, args=(world, str(tmp_path / "store"), None, None, "cuda"),
             nprocs=world, join=True)  # fmt: skip


def test_plain_tensors_match_apply_plan():
    """Without DTensors the sharded writer is apply_plan (also the reference for the above)."""
    plan, ref = dist_worker.reference(seed=5)
    with torch.device("meta"):
        m = dist_worker.Net()
    m.to_empty(device="cpu")
    apply_plan_sharded(m, plan, seed=5)
    for k, v in m.state_dict().items():
        assert torch.equal(v, ref[k] if k in ref else v), k
    assert local_box(torch.empty(2, 3)) == ((0, 0), (2, 3))


class _Custom(nn.Module):
    """A layout initlab does not know, with its own reset_parameters (policy "torch" defers)."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.empty(4, 4))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.w.sum()


def test_module_default_rows_are_refused():
    m = _Custom()
    p = initlab.plan(m, torch.randn(1, 4), policy="torch")
    assert p["w"].call[0] == "reset_parameters"
    with pytest.raises(InitError, match="reset_parameters"):
        apply_plan_sharded(m, p)


def test_bad_plan_and_shape():
    with pytest.raises(InitError, match="InitPlan"):
        apply_plan_sharded(nn.Linear(2, 2), "plan")  # type: ignore[arg-type]
    p = initlab.plan(nn.Linear(4, 4), torch.randn(1, 4))
    with pytest.raises(InitError, match="global shape"):
        apply_plan_sharded(nn.Linear(4, 5), p)


def test_pretrained_marked_after_planning_is_kept_as_apply_plan_keeps_it():
    """apply_plan re-checks mark_pretrained at write time (the plan may predate the mark, or come
    from another copy of the model); the sharded writer must keep those weights too."""
    m = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    p = initlab.plan(m, torch.randn(1, 4))
    initlab.mark_pretrained(m[0])
    before = m[0].weight.detach().clone()
    apply_plan_sharded(m, p, seed=3)
    assert torch.equal(m[0].weight, before)
    ref = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    initlab.apply_plan(ref, p, seed=3)
    assert torch.equal(m[2].weight, ref[2].weight)
    apply_plan_sharded(m, p, seed=3, overwrite=True)
    assert torch.equal(m[0].weight, ref[0].weight)
