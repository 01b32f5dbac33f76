"""Randomness by name: values depend only on (seed, parameter name); blocks; meta device."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import initlab
from initlab.lab import zoo
from initlab.model import apply as apply_mod
from initlab.model.apply import generator_for, stable_seed


def _state(m: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in m.state_dict().items()}


def _equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_same_seed_same_weights_different_seed_different() -> None:
    m = zoo.resnet()
    x = m.example_input(2)
    initlab.init(m, x, seed=7)
    a = _state(m)
    torch.manual_seed(123)  # the global RNG plays no part
    initlab.init(m, x, seed=7)
    assert _equal(a, _state(m))
    initlab.init(m, x, seed=8)
    assert not torch.equal(a["conv1.weight"], m.conv1.weight)


class OrderA(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Linear(8, 16)
        self.dec = nn.Linear(16, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dec(torch.relu(self.enc(x)))


class OrderB(OrderA):
    def __init__(self) -> None:  # same names, constructed in the other order
        nn.Module.__init__(self)
        self.dec = nn.Linear(16, 8)
        self.enc = nn.Linear(8, 16)


def test_construction_order_does_not_matter() -> None:
    a, b = OrderA(), OrderB()
    x = torch.randn(2, 8)
    initlab.init(a, x, seed=0)
    initlab.init(b, x, seed=0)
    assert _equal(_state(a), _state(b))


def test_values_do_not_depend_on_which_other_parameters_were_written() -> None:
    m, n = zoo.nano_gpt(), zoo.nano_gpt()
    x = m.example_input(2)
    initlab.init(m, x, seed=0)
    initlab.init(n, x, seed=0, skip=["*.h.0.*", "lm_head.*"])
    assert torch.equal(m.transformer.h[1].mlp.c_fc.weight, n.transformer.h[1].mlp.c_fc.weight)


def test_threads_do_not_matter() -> None:
    m = zoo.deep_mlp(depth=2, width=256)
    x = m.example_input(2)
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        initlab.init(m, x, seed=0)
        a = _state(m)
        torch.set_num_threads(2)
        initlab.init(m, x, seed=0)
    finally:
        torch.set_num_threads(old)
    assert _equal(a, _state(m))


def test_blocks_can_be_generated_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Block i of a parameter is N(·) drawn from generator(seed, name, i) alone: a shard holding
    elements [i·B, (i+1)·B) can produce exactly its part."""
    monkeypatch.setattr(apply_mod, "BLOCK", 1000)
    m = nn.Sequential(nn.Linear(100, 50), nn.Tanh(), nn.Linear(50, 2))
    p = initlab.init(m, torch.randn(2, 100), seed=4)
    row = p["0.weight"]
    assert row.elementwise and row.call[0] == "variance_scaling_"
    flat = m[0].weight.detach().flatten()
    for i in (0, 3):
        part = torch.empty(1000)
        initlab.variance_scaling_(part, **{**row.call[1], "fans": tuple(row.call[1]["fans"])},
                                  generator=generator_for(4, "0.weight", i, part.device))
        assert torch.equal(flat[1000 * i : 1000 * (i + 1)], part)


def test_orthogonal_rows_say_they_need_the_whole_matrix() -> None:
    m = zoo.gru_model()
    p = initlab.plan(m, m.example_input(2))
    assert not p["rnn.weight_hh_l0"].elementwise and p["rnn.weight_ih_l0"].elementwise


def test_stable_seed_is_a_fixed_function() -> None:
    # BLAKE2b of the name, not Python's salted hash(): the same in every process.
    assert stable_seed(0, "a.weight") == stable_seed(0, "a.weight")
    assert len({stable_seed(0, "w", b) for b in range(100)}) == 100


@pytest.mark.parametrize("factory", [zoo.nano_gpt, zoo.resnet, zoo.lstm_model])
def test_meta_device_then_to_empty_gives_the_eager_weights(factory) -> None:  # type: ignore[no-untyped-def]
    eager = factory()
    x = eager.example_input(2)
    initlab.init(eager, x, seed=11)
    with torch.device("meta"):
        lazy = factory()
    plan_on_meta = initlab.plan(lazy, x)  # planning works before any memory exists
    lazy.to_empty(device="cpu")
    if factory is zoo.nano_gpt:  # to_empty unties lm_head/wte: apply_plan ties them again
        with pytest.warns(UserWarning, match="tied them again"):
            initlab.apply_plan(lazy, plan_on_meta, seed=11)
        assert lazy.lm_head.weight is lazy.transformer.wte.weight
    else:
        initlab.apply_plan(lazy, plan_on_meta, seed=11)
    assert _equal(_state(eager), _state(lazy))
