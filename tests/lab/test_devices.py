"""``device=`` on the library's entry points that build and run models.

On the CPU (``device="cpu"``, the default) every result is bit-identical to the call without the
argument: the weights, data and batch order are drawn on the CPU's generators and the tensors are
moved only when the device is not the CPU. A device this machine lacks is one
:class:`~initlab.errors.InitError` before any work. The CUDA runs at the end are skipped (with
the reason) on a machine without a GPU.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from torch import nn

from initlab.devices import module_device, resolve_device
from initlab.errors import InitError

HAS_CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="no CUDA device here (torch "
                                f"{torch.__version__}): the CUDA runs need a GPU machine")
_TIMING = {"seconds", "elapsed_s", "elapsed"}


def _strip(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _strip(v) for k, v in d.items() if k not in _TIMING}
    if isinstance(d, list | tuple):
        return [_strip(v) for v in d]
    return d


# ----------------------------------------------------------------------- resolve_device --
@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "tpu", "", "cpu:-1x"])
def test_bad_names_are_one_clear_error(bad):
    with pytest.raises(InitError, match="device") as e:
        resolve_device(bad)
    assert "cpu" in str(e.value)  # says what to use instead


def test_names_and_devices_resolve():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert module_device(nn.Linear(2, 2)) == torch.device("cpu")
    assert module_device(nn.ReLU()) == torch.device("cpu")  # no parameters: the CPU


@pytest.mark.skipif(HAS_CUDA, reason="this machine has CUDA")
def test_cuda_on_a_cpu_only_torch_names_the_option():
    with pytest.raises(InitError, match=r"device='cuda': this torch build .* use device='cpu'"):
        resolve_device("cuda")
    with pytest.raises(InitError, match=r"^--device cuda:1: .* use --device cpu$"):
        resolve_device("cuda:1", option="--device")


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has MPS")
def test_mps_absent():
    with pytest.raises(InitError, match="no MPS device"):
        resolve_device("mps")


def test_float64_claims_refuse_mps(monkeypatch):
    import initlab.devices
    from initlab.lab.claims import run_claim

    monkeypatch.setattr(initlab.devices, "resolve_device", lambda d, **k: torch.device("mps"))
    with pytest.raises(InitError, match="float64, which the MPS device does not support"):
        run_claim("relu_variance", seeds=2, device="mps")


# -------------------------------------------------- every entry point: bad device refused --
def _entry_points() -> dict[str, Any]:
    from initlab.lab.claims import run_claim
    from initlab.lab.compare import compare_inits
    from initlab.lab.coordcheck import coord_check, lr_sweep, mlp
    from initlab.lab.data import load_dataset
    from initlab.lab.demo import run_demo
    from initlab.lab.live import compare_live
    from initlab.lab.reproduce import run_reproduction
    from initlab.lab.sweep import complete, run_config, run_sweep
    from initlab.lab.train import train

    return {
        "compare_inits": lambda d: compare_inits(("he",), depth=1, width=4, epochs=1, device=d),
        "train": lambda d: train(nn.Linear(2, 2), load_dataset("spirals", n_train=8, n_test=4),
                                 epochs=1, device=d),
        "coord_check": lambda d: coord_check(mlp, (8, 16), steps=1, seeds=1, device=d),
        "lr_sweep": lambda d: lr_sweep(mlp, (8, 16), (1e-3, 1e-2), steps=1, device=d),
        "run_config": lambda d: run_config(complete({"depth": 1}), device=d),
        "run_sweep": lambda d: run_sweep("depth=1", "/nonexistent/s.sqlite", device=d),
        "run_claim": lambda d: run_claim("linear_variance", seeds=2, device=d),
        "run_reproduction": lambda d: run_reproduction("saxe2014", quick=True, device=d),
        "run_demo": lambda d: run_demo(depth=1, width=4, batch=2, device=d),
        "compare_live": lambda d: compare_live(["he"], depth=1, width=4, epochs=1, device=d),
    }


@pytest.mark.parametrize("name", list(_entry_points()))
def test_every_entry_point_refuses_a_bad_device_before_any_work(name):
    with pytest.raises(InitError, match="'gpu' is not a device name"):
        _entry_points()[name]("gpu")


# ------------------------------------------------ device="cpu" is bit-identical to before --
def test_compare_inits_cpu_is_the_default(digits_small):
    from initlab.lab.compare import compare_inits

    kw = dict(data=digits_small, depth=2, width=8, epochs=1, batch_size=64)
    a = compare_inits(("zeros", "he"), **kw)
    b = compare_inits(("zeros", "he"), device="cpu", **kw)
    c = compare_inits(("zeros", "he"), device=torch.device("cpu"), **kw)
    assert _strip(a.to_dict()) == _strip(b.to_dict()) == _strip(c.to_dict())


def test_train_cpu_is_the_default(digits_small):
    from initlab.lab.train import train

    recs = []
    for device in (None, "cpu"):
        torch.manual_seed(0)
        model = nn.Linear(64, 10)
        recs.append(train(model, digits_small, epochs=2, seed=1, device=device))
    assert recs[0] == recs[1]  # the dataclass compares every field but the wall time


def test_coordcheck_and_lr_sweep_cpu_are_the_default():
    from initlab.lab.coordcheck import coord_check, lr_sweep, mlp

    kw: dict[str, Any] = dict(steps=2, seeds=1, policies=("torch", "mup"))
    assert coord_check(mlp, (16, 32), **kw) == coord_check(mlp, (16, 32), device="cpu", **kw)
    kw = dict(steps=3, policies=("torch",))
    assert (lr_sweep(mlp, (16, 32), (1e-3, 1e-2), **kw)
            == lr_sweep(mlp, (16, 32), (1e-3, 1e-2), device="cpu", **kw))


def test_claim_and_reproduction_cpu_are_the_default():
    from initlab.lab.claims import run_claim
    from initlab.lab.reproduce import run_reproduction

    for kw in (dict(seeds=2, widths=(8,), depth=3),):
        a = run_claim("linear_variance", **kw)
        b = run_claim("linear_variance", device="cpu", **kw)
        assert _strip(a.to_dict()) == _strip(b.to_dict())
    kw2 = dict(quick=True, depth=3, width=8, steps=10, seeds=1)
    a = run_reproduction("he2015", **kw2)
    b = run_reproduction("he2015", device="cpu", **kw2)
    assert _strip(a.to_dict()) == _strip(b.to_dict())


@pytest.fixture(scope="module")
def digits_small():
    from initlab.lab.data import load_dataset

    return load_dataset("digits", n_train=256, n_test=128)


# ------------------------------------------------------------------------------- CUDA ------
@needs_cuda
def test_train_on_cuda_matches_the_cpu_closely(digits_small):
    from initlab.lab.train import train

    out = []
    for device in ("cpu", "cuda"):
        torch.manual_seed(0)
        model = nn.Linear(64, 10)
        out.append(train(model, digits_small, epochs=3, lr=0.05, seed=0, device=device))
        assert module_device(model).type == device
    # the same weights and batch order: only float32 rounding differs (cuBLAS vs CPU), far
    # below one test example in 128 (0.008)
    assert abs(out[0].final_test_accuracy - out[1].final_test_accuracy) <= 1 / 128 + 1e-9
    assert math.isclose(out[0].step_loss[0], out[1].step_loss[0], rel_tol=1e-4)


@needs_cuda
def test_compare_inits_on_cuda(digits_small):
    from initlab.lab.compare import compare_inits

    kw = dict(data=digits_small, depth=2, width=16, epochs=2)
    cpu = compare_inits(("zeros", "he"), **kw)
    gpu = compare_inits(("zeros", "he"), device="cuda", **kw)
    # the same CPU-drawn weights, data and batch order: the first loss agrees to float32
    # rounding, and 8 steps later the accuracy is within two test examples of 128
    for start in ("zeros", "he"):
        c, g = cpu.run(start), gpu.run(start)
        assert math.isclose(c.step_loss[0], g.step_loss[0], rel_tol=1e-4)
        assert abs(c.final_test_accuracy - g.final_test_accuracy) <= 2 / 128 + 1e-9
    assert cpu.summary("he").verdict0 == gpu.summary("he").verdict0


@needs_cuda
def test_coordcheck_lr_sweep_and_sweep_run_on_cuda():
    from initlab.lab.coordcheck import coord_check, lr_sweep, mlp
    from initlab.lab.sweep import complete, run_config

    cpu = coord_check(mlp, (16, 32), steps=2, seeds=1)
    gpu = coord_check(mlp, (16, 32), steps=2, seeds=1, device="cuda")
    assert gpu.layers == cpu.layers and set(gpu.verdicts) == set(cpu.verdicts)
    step0 = {n: gpu.sizes["torch"][n][0] for n in gpu.layers}  # at init: the same weights
    for n, v in step0.items():
        assert all(math.isclose(a, b, rel_tol=1e-4)
                   for a, b in zip(v[0], cpu.sizes["torch"][n][0][0], strict=True))
    r = lr_sweep(mlp, (16, 32), (1e-3, 1e-2), steps=3, policies=("torch",), device="cuda")
    assert all(math.isfinite(v) for row in r.loss["torch"] for v in row)
    rec = run_config(complete({"depth": 1, "width": 8, "epochs": 1}), device="cuda")
    assert rec["config"]["device"].startswith("cuda") and rec["steps"] > 0


@needs_cuda
@pytest.mark.parametrize("name", ["symmetry", "linear_variance", "relu_variance",
                                  "input_gradient", "zero_gamma", "optimistic", "ntk", "pinn",
                                  "rnn_memory", "input_scale", "new_heads", "maml"])
def test_every_claim_runs_on_cuda(name):
    from initlab.lab.claims import run_claim

    r = run_claim(name, quick=True, seeds=2, device="cuda")
    assert r.verdict.value in ("supported", "partly", "not supported")


@needs_cuda
def test_float64_claim_on_cuda_matches_the_cpu():
    from initlab.lab.claims import run_claim

    kw = dict(seeds=2, width=32, depth=4)
    cpu, gpu = run_claim("relu_variance", **kw), run_claim("relu_variance", device="cuda", **kw)
    for a, b in zip(cpu.effects, gpu.effects, strict=True):
        assert math.isclose(a.value, b.value, rel_tol=1e-9)  # float64, the same draws


@needs_cuda
@pytest.mark.parametrize("name", ["exercise", "he2015", "glorot2010", "schoenholz2017",
                                  "saxe2014", "zhang2019", "pennington2017"])
def test_every_reproduction_runs_on_cuda(name):
    from initlab.lab.reproduce import run_reproduction

    r = run_reproduction(name, quick=True, device="cuda", seeds=1)
    assert r.verdict.value in ("supported", "partly", "not supported")
