"""The doctor never changes the model, survives in-place ops and odd outputs, reads back once."""

from __future__ import annotations

import dataclasses
import hashlib
import random

import numpy as np
import pytest
import torch
from tests.probe.models import SmallResNet, mlp
from torch import nn

import initlab
from initlab.errors import InitError


def _checksum(model: nn.Module) -> str:
    h = hashlib.sha256()
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        h.update(name.encode())
        h.update(t.detach().cpu().numpy().tobytes())
    for name, p in model.named_parameters():
        h.update(f"{name}:{p.requires_grad}".encode())
        h.update(b"none" if p.grad is None else p.grad.cpu().numpy().tobytes())
    for name, m in model.named_modules():
        h.update(f"{name}:{m.training}".encode())
    return h.hexdigest()


def _rng_checksum() -> str:
    h = hashlib.sha256(torch.get_rng_state().numpy().tobytes())
    h.update(repr(random.getstate()).encode())
    h.update(repr(np.random.get_state()[1][:8]).encode())
    return h.hexdigest()


class Frozen(nn.Module):
    """BN in train mode (running stats move), dropout (global RNG), a frozen part, stale .grad."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(16, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.5))
        self.head = nn.Sequential(nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def test_never_changes_the_model():
    torch.manual_seed(0)
    model = Frozen()
    for p in model.body[0].parameters():
        p.requires_grad_(False)
    model.head[0].weight.grad = torch.full_like(model.head[0].weight, 0.5)
    model.head.eval()  # mixed modes
    x = torch.randn(32, 16)
    before, rng = _checksum(model), _rng_checksum()
    dx = initlab.doctor(model, x)
    assert _checksum(model) == before
    assert _rng_checksum() == rng
    # gradients still reach the frozen part (through the input copy)
    assert dx.layer("body.0").grad_rms is not None
    assert dx.layer("body.0").weight_grad_norm is None  # frozen: no weight gradient taken


def test_inplace_relu_reports_the_right_statistics(x64):
    a = mlp(nn.ReLU, 4, "he")
    b = mlp(nn.ReLU, 4, "he")
    for m in b:
        if isinstance(m, nn.ReLU):
            m.inplace = True
    da, db = initlab.doctor(a, x64), initlab.doctor(b, x64)
    for ra, rb in zip(da.layers, db.layers, strict=True):
        for f in ("mean", "std", "rms", "max_abs", "gain", "dead", "grad_rms"):
            va, vb = getattr(ra, f), getattr(rb, f)
            assert (va is None and vb is None) or va == pytest.approx(vb, rel=1e-6), (ra.name, f)
    lin = db.layer("0")
    assert lin.mean < 0.1 and lin.std > 0.5  # pre-activation: centred, not the ReLU output


@dataclasses.dataclass
class Out:
    logits: torch.Tensor
    aux: torch.Tensor


class Multi(nn.Module):
    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.a = nn.Sequential(nn.Linear(8, 8), nn.Tanh())
        self.b = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor, scale: float = 1.0):
        h = self.a(x) * scale
        y = self.b(h)
        if self.kind == "tuple":
            return y, h
        if self.kind == "dict":
            return {"logits": y, "hidden": h}
        return Out(y, h)


@pytest.mark.parametrize("kind", ["tuple", "dict", "dataclass"])
def test_structured_outputs(kind):
    x = torch.randn(8, 8)
    dx = initlab.doctor(Multi(kind), x)
    assert [r.name for r in dx.layers] == ["a.0", "a.1", "b"]
    assert all(r.grad_rms is not None for r in dx.layers)
    # keyword inputs as a dict, positional as a tuple
    assert initlab.doctor(Multi(kind), {"x": x, "scale": 2.0}).layers[0].rms > 0
    assert len(initlab.doctor(Multi(kind), (x, 2.0)).layers) == 3


def test_loss_fn_and_target():
    torch.manual_seed(0)
    net = mlp(nn.ReLU, 3, "he")
    x, y = torch.randn(16, 64), torch.randint(0, 10, (16,))
    assert initlab.doctor(net, x, target=y).loss == "cross_entropy"
    assert initlab.doctor(net, x, target=torch.randn(16, 10)).loss == "mse"
    dx = initlab.doctor(net, x, y, loss_fn=nn.CrossEntropyLoss())
    assert dx.loss == "loss_fn:CrossEntropyLoss"
    with pytest.raises(InitError, match="scalar"):
        initlab.doctor(net, x, loss_fn=lambda out: out)


def test_wrappers_are_unwrapped(x64):
    net = mlp(nn.ReLU, 3, "he")
    dx = initlab.doctor(nn.DataParallel(net), x64)
    assert dx.model == "Sequential" and any("DataParallel" in n for n in dx.notes)
    compiled = torch.compile(net)  # lazy: never compiled, the doctor runs the eager module
    dx2 = initlab.doctor(compiled, x64)
    assert any("torch.compile" in n for n in dx2.notes)
    assert [r.rms for r in dx2.layers] == [r.rms for r in initlab.doctor(net, x64).layers]


def test_single_readback(monkeypatch, x64):
    """Statistics are read back once: no .item()/.tolist()/bool() on tensors during the call."""
    calls = {"item": 0, "tolist": 0, "bool": 0, "cpu": 0}
    for name, key in (("item", "item"), ("tolist", "tolist"), ("__bool__", "bool"), ("cpu", "cpu")):
        orig = getattr(torch.Tensor, name)

        def spy(self, *a, _orig=orig, _key=key, **k):
            calls[_key] += 1
            return _orig(self, *a, **k)

        monkeypatch.setattr(torch.Tensor, name, spy)
    initlab.doctor(SmallResNet(blocks=2), torch.randn(4, 3, 8, 8))
    assert calls == {"item": 0, "tolist": 0, "bool": 0, "cpu": 1}


def test_functional_activations_are_observed_and_noted():
    class Fn(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l1, self.l2 = nn.Linear(4, 4), nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.l2(torch.relu(self.l1(x)))

    dx = initlab.doctor(Fn(), torch.randn(4, 4))
    assert [r.label for r in dx.layers] == ["l1", "l1.relu", "l2"]
    assert dx.layers[1].kind == "ReLU" and dx.layers[1].dead is not None
    assert any("1 activation point(s) observed as function calls" in n for n in dx.notes)


def test_no_activation_at_all_is_noted():
    dx = initlab.doctor(nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2)), torch.randn(4, 4))
    assert any("no activation observed" in n for n in dx.notes)


def test_bad_inputs_have_clear_messages():
    net = mlp(nn.ReLU, 2, "he")
    with pytest.raises(InitError, match=r"forward failed.*shape \(4, 5\).*--input-shape"):
        initlab.doctor(net, torch.randn(4, 5))
    with pytest.raises(InitError, match=r"must be a torch\.nn\.Module"):
        initlab.doctor(lambda x: x, torch.randn(2))
    with pytest.raises(InitError, match="example_input must be a tensor"):
        initlab.doctor(net, 3.0)
    with pytest.raises(InitError, match=r"unknown threshold\(s\) \['bnad'\]"):
        initlab.doctor(net, torch.randn(4, 64), bnad=3)
    with pytest.raises(InitError, match=r"must be > 1"):
        initlab.doctor(net, torch.randn(4, 64), band=0.5)


def test_nonfinite_is_flagged(x64):
    net = mlp(nn.ReLU, 3, "he")
    with torch.no_grad():
        net[2].weight[0, 0] = float("nan")
    dx = initlab.doctor(net, x64)
    assert dx.verdict == "nonfinite"
    assert dx.findings[0].kind == "nonfinite"


@pytest.mark.skipif(not torch.distributed.is_available(), reason="no torch.distributed")
def test_ddp_is_unwrapped(tmp_path, x64):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'pg'}", rank=0, world_size=1)
    try:
        ddp = nn.parallel.DistributedDataParallel(mlp(nn.ReLU, 2, "he"))
        dx = initlab.doctor(ddp, x64)
        assert dx.model == "Sequential"
        assert any("DistributedDataParallel" in n for n in dx.notes)
    finally:
        dist.destroy_process_group()


def test_torchscript_module_gets_a_clear_error(x64):
    """A scripted module runs in the TorchScript interpreter: no Python hooks. The doctor says so
    and names the fix instead of surfacing torch's hook error."""
    scripted = torch.jit.script(mlp(nn.ReLU, 2, "he"))
    with pytest.raises(initlab.errors.InitError, match=r"TorchScript.*eager module"):
        initlab.doctor(scripted, x64)
