"""LSUV (Mishkin & Matas 2015): convergence, O(L) evaluations, BN untouched, bf16, wrappers."""

from __future__ import annotations

import pytest
import torch
import torch.distributed as dist
from torch import nn

import initlab
from initlab.errors import InitError
from initlab.lab import zoo


def _batch(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def _output_stds(model: nn.Module, x: torch.Tensor) -> dict[str, float]:
    out: dict[str, float] = {}
    def record(name: str):  # type: ignore[no-untyped-def]
        def hook(mod: nn.Module, a: object, o: torch.Tensor) -> None:
            out.setdefault(name, float(o.std()))

        return hook

    hooks = [m.register_forward_hook(record(n))
             for n, m in model.named_modules() if isinstance(m, nn.Linear | nn.Conv2d)]
    with torch.no_grad():
        model.eval()
        model(x)
    for h in hooks:
        h.remove()
    return out


def test_every_layer_reaches_unit_std_in_execution_order() -> None:
    """Paper, Algorithm 1 with Tol_var = 0.1: each layer's output std is within tol of 1."""
    m = zoo.deep_mlp(depth=12, width=64, activation=nn.Tanh)
    x = _batch((256, 32))
    r = initlab.lsuv(m, x)
    assert r.converged and r.forward_passes == 1
    assert [lay.name for lay in r.layers] == [f"net.{2 * i}" for i in range(13)]
    for name, s in _output_stds(m, x).items():
        assert abs(s - 1.0) < 0.1, name


def test_cost_is_linear_in_depth() -> None:
    """One model forward, plus one single-layer call per rescaling: the total number of layer
    evaluations is L + layer_calls ≤ L·(1 + max_iter), and in practice a few per layer."""
    calls = {"model": 0}
    m = zoo.deep_mlp(depth=30, width=32)

    def count(*args: object) -> None:
        calls["model"] += 1

    m.register_forward_hook(count)
    r = initlab.lsuv(m, _batch((128, 32)), max_iter=10)
    assert calls["model"] == 1 and r.forward_passes == 1
    assert r.layer_calls <= 3 * len(r.layers)


def test_batchnorm_stats_untouched_and_mode_restored() -> None:
    m = zoo.resnet()
    m.train()
    before = {k: v.clone() for k, v in m.state_dict().items() if "running" in k or "batches" in k}
    r = initlab.lsuv(m, m.example_input(32))
    assert m.training and all(mod.training for mod in m.modules())
    after = m.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in before.items())
    assert len(r.layers) == sum(isinstance(x, nn.Linear | nn.Conv2d) for x in m.modules())


def test_per_channel_variance() -> None:
    m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3))
    x = _batch((32, 3, 12, 12))
    r = initlab.lsuv(m, x, per_channel=True)
    assert r.converged
    with torch.no_grad():
        y = m[0](x)
    per_channel = y.transpose(0, 1).reshape(8, -1).std(dim=1)
    assert torch.all((per_channel - 1).abs() < 0.1)


def test_bf16_model() -> None:
    m = zoo.deep_mlp(depth=4, width=64).to(torch.bfloat16)
    x = _batch((256, 32)).to(torch.bfloat16)
    r = initlab.lsuv(m, x)
    assert r.converged and m.net[0].weight.dtype == torch.bfloat16
    assert all(abs(lay.final_std - 1) < 0.1 for lay in r.layers)


def test_dataparallel_and_ddp_wrappers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    m = zoo.deep_mlp(depth=3, width=32)
    r = initlab.lsuv(nn.DataParallel(m), _batch((64, 32)))
    assert r.converged and len(r.layers) == 4
    if not dist.is_available():
        pytest.skip("torch.distributed not available")
    dist.init_process_group("gloo", init_method=f"file://{tmp_path}/store", rank=0, world_size=1)
    try:
        ddp = nn.parallel.DistributedDataParallel(zoo.deep_mlp(depth=3, width=32))
        r2 = initlab.lsuv(ddp, _batch((64, 32)))
        assert r2.converged and ddp.module.net[0].weight.abs().sum() > 0
    finally:
        dist.destroy_process_group()


def test_report_is_data() -> None:
    r = initlab.lsuv(zoo.deep_mlp(depth=2, width=16), _batch((64, 32)))
    d = r.to_dict()
    assert d["forward_passes"] == 1 and len(d["layers"]) == 3
    assert "iterations" in r.to_json()


def test_bad_arguments() -> None:
    m = zoo.deep_mlp(depth=1)
    with pytest.raises(InitError, match="target_std"):
        initlab.lsuv(m, _batch((4, 32)), target_std=0)
    with pytest.raises(InitError, match="tol"):
        initlab.lsuv(m, _batch((4, 32)), tol=-1)
    with pytest.raises(InitError, match="no Linear or Conv"):
        initlab.lsuv(nn.Sequential(nn.ReLU()), _batch((4, 32)))


class Reordered(nn.Module):
    """Registered b, a; executed a, b: LSUV must follow execution order."""

    def __init__(self) -> None:
        super().__init__()
        self.b = nn.Linear(64, 64)
        self.a = nn.Linear(32, 64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(torch.relu(self.a(x)))


def test_execution_order_not_registration_order() -> None:
    m = Reordered()
    x = _batch((256, 32))
    r = initlab.lsuv(m, x)
    assert [lay.name for lay in r.layers] == ["a", "b"]
    with torch.no_grad():
        assert abs(float(m.b(torch.relu(m.a(x))).std()) - 1) < 0.1
