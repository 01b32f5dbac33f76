"""The one registry of starts (initlab.lab.starts): names, options, determinism, bad input."""

import json
import sys
import types

import pytest
import torch
from torch import nn

from initlab.errors import InitError
from initlab.lab.starts import Start, apply_start, available_starts, get_start
from initlab.lab.zoo import deep_mlp
from initlab.model.policies import POLICIES


def _mlp(act: str = "relu", width: int = 256) -> nn.Module:
    return deep_mlp(3, width, 128, 10, act)


def _weights(m: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in m.parameters()]


def test_available_starts_cover_textbook_policies_and_lsuv():
    names = [s.name for s in available_starts()]
    assert names[:5] == ["zeros", "constant", "small", "normal", "uniform"]
    assert set(POLICIES) <= set(names) and "lsuv" in names
    kinds = {s.name: s.kind for s in available_starts()}
    assert kinds["zeros"] == "textbook" and kinds["he"] == "policy" and kinds["lsuv"] == "lsuv"
    # every listed name resolves back to itself and has a label and a description
    for s in available_starts():
        assert get_start(s.name) == s and s.label and s.description


@pytest.mark.parametrize("spec, name, label", [
    ("zeros", "zeros", "zeros"),
    ("small", "small", "N(0, 0.01²)"),
    ("normal", "normal", "N(0, 1)"),
    ("normal(std=1.0)", "normal", "N(0, 1)"),
    (" normal( std = 0.05 ) ", "normal(std=0.05)", "N(0, 0.05²)"),
    ("uniform(a=0.5)", "uniform(a=0.5)", "U(±0.5)"),
    ("constant(value=-0.2)", "constant(value=-0.2)", "const -0.2"),
    ("he", "he", "He"),
    ("xavier", "xavier", "Xavier"),
    ("critical(sigma_b2=0.05)", "critical(sigma_b2=0.05)", "Critical (σ_b²=0.05)"),
    ("lsuv", "lsuv", "LSUV"),
])
def test_names_are_canonical_and_round_trip(spec, name, label):
    s = get_start(spec)
    assert (s.name, s.label) == (name, label)
    assert get_start(s.name) == s and get_start(s) is s
    assert str(s) == name and s.to_dict()["name"] == name


def test_textbook_fills_linear_and_conv_weights_zeroes_biases_keeps_the_rest():
    m = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.Flatten(), nn.LazyLinear(8))
    m(torch.randn(2, 3, 6, 6))
    with torch.no_grad():
        m[1].weight.fill_(3.0)
    apply_start(m, "normal(std=0.5)", seed=1)
    w = m[0].weight.detach()
    # 1728 values: the std estimate's relative error is ~1/√(2·1728) ≈ 1.7 %; 6 % is > 3σ
    assert float(w.std()) == pytest.approx(0.5, rel=0.06)
    assert float(m[0].bias.detach().abs().sum()) == 0.0
    assert float(m[3].bias.detach().abs().sum()) == 0.0
    assert bool((m[1].weight.detach() == 3.0).all())  # a norm layer keeps its values
    apply_start(m, "uniform(a=0.3)", seed=1)
    assert float(m[0].weight.detach().abs().max()) <= 0.3
    apply_start(m, "constant(value=0.7)")
    assert bool((m[3].weight.detach() == 0.7).all())
    apply_start(m, "zeros")
    assert float(m[0].weight.detach().abs().sum()) == 0.0


def test_he_and_xavier_are_the_policies():
    """He et al. 2015 eq. 10: Var = 2/fan_in; Glorot & Bengio 2010 eq. 16: 2/(fan_in+fan_out).
    A 256×256 layer has 65,536 values: the variance estimate's relative error is
    √(2/65536) ≈ 0.6 % (normal) and smaller for the uniform; 3 % is > 4σ."""
    he = apply_start(_mlp(), "he").apply(_mlp())
    assert float(he.net[2].weight.detach().var()) == pytest.approx(2 / 256, rel=0.03)
    xav = get_start("xavier").apply(_mlp())
    assert float(xav.net[2].weight.detach().var()) == pytest.approx(2 / 512, rel=0.03)


def test_same_seed_same_weights_other_seed_other_weights():
    for spec in ("small", "normal(std=0.3)", "uniform", "he", "xavier", "orthogonal", "lsuv",
                 "critical(sigma_b2=0.05)"):
        a, b, c = _mlp("tanh", 32), _mlp("tanh", 32), _mlp("tanh", 32)
        x = torch.randn(16, 128, generator=torch.Generator().manual_seed(0))
        apply_start(a, spec, x, seed=3)
        apply_start(b, spec, x, seed=3)
        apply_start(c, spec, x, seed=4)
        assert all(torch.equal(p, q) for p, q in zip(_weights(a), _weights(b), strict=True)), spec
        assert not all(torch.equal(p, q) for p, q in zip(_weights(a), _weights(c), strict=True))


def test_textbook_weights_do_not_depend_on_other_layers():
    """A parameter's draw depends on (seed, its name) only, as in initlab.init."""
    a = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
    b = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
    apply_start(a, "normal", seed=0)
    apply_start(b, "normal", seed=0)
    assert torch.equal(a[2].weight, b[2].weight)
    assert not torch.equal(a[0].weight, a[2].weight)


def test_lsuv_uses_the_example_input_or_the_zoo_input():
    m = _mlp("tanh", 64)
    x = torch.randn(256, 128, generator=torch.Generator().manual_seed(0))
    apply_start(m, "lsuv", x)
    h = m.net[0](x)
    assert float(h.detach().std()) == pytest.approx(1.0, abs=0.1)  # LSUV's tol = 0.1
    apply_start(_mlp(), "lsuv")  # a zoo model brings its own example_input
    with pytest.raises(InitError, match="example input"):
        apply_start(nn.Sequential(nn.Linear(4, 4)), "lsuv")


def test_callables_and_import_paths(monkeypatch):
    def halve(model):
        """Halve every weight."""
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(0.5)

    m = nn.Linear(3, 3)
    before = m.weight.detach().clone()
    s = apply_start(m, halve)
    assert s.kind == "callable" and s.description == "Halve every weight."
    assert torch.allclose(m.weight.detach(), before / 2)

    mod = types.ModuleType("my_starts_mod")

    def randn_start(model):
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.randn(p.shape))  # the global RNG: seeded by the start

    mod.randn_start = randn_start
    monkeypatch.setitem(sys.modules, "my_starts_mod", mod)
    s = get_start("my_starts_mod:randn_start")
    assert s.name == "my_starts_mod:randn_start" and s.kind == "callable"
    a, b = nn.Linear(3, 3), nn.Linear(3, 3)
    s.apply(a, seed=5)
    s.apply(b, seed=5)
    assert torch.equal(a.weight, b.weight)


@pytest.mark.parametrize("spec, words", [
    ("kaiming_he", "unknown start 'kaiming_he'; choose from zeros, constant"),
    ("zeros(value=1)", "takes no options"),
    ("normal(sd=1)", "unknown option 'sd'"),
    ("normal(std=-1)", "std must be a finite number > 0"),
    ("normal(std=nan)", "std must be"),
    ("uniform(a=x)", "a must be"),
    ("normal(std)", "expected name\\(key=value"),
    ("critical(sigma_b2=-1)", "sigma_b2"),
    ("he(gain=2)", "unknown option 'gain'"),
    ("lsuv(x=1)", "takes no options"),
    ("no_such_module_xyz:fn", "cannot import module"),
    ("math:no_such_fn", "has no attribute"),
    ("math:pi", "not callable"),
    ("a b:c", "pkg.module:function"),
    (3, "got int"),
])
def test_bad_specs(spec, words):
    with pytest.raises(InitError, match=words):
        get_start(spec)


def test_bad_apply_arguments():
    with pytest.raises(InitError, match="seed"):
        get_start("zeros").apply(nn.Linear(2, 2), seed=-1)
    with pytest.raises(InitError, match=r"nn\.Module"):
        get_start("zeros").apply("model")  # type: ignore[arg-type]

    def boom(model):
        raise RuntimeError("bad idea")

    with pytest.raises(InitError, match="raised RuntimeError: bad idea"):
        apply_start(nn.Linear(2, 2), boom)


def test_start_is_a_frozen_value():
    s = get_start("he")
    assert isinstance(s, Start)
    with pytest.raises(AttributeError):
        s.name = "x"  # type: ignore[misc]
    d = json.loads(get_start("critical(sigma_b2=0.05)").to_json())
    assert d["kind"] == "policy" and d["options"] == {"sigma_b2": 0.05}
