"""Rules, safety (frozen, pretrained, skip, tied, buffers, unknown layouts), plan as data."""

from __future__ import annotations

import json
import math

import pytest
import torch
from tests.model.helpers import check_plan
from torch import nn

import initlab
from initlab.errors import InitError
from initlab.lab import zoo
from initlab.model import InitPlan


def _gpt() -> tuple[nn.Module, torch.Tensor]:
    m = zoo.nano_gpt()
    return m, m.example_input(2)


def test_glob_and_type_rules() -> None:
    m, x = _gpt()
    p = initlab.plan(m, x, rules=[
        ("*.c_proj.weight", initlab.schemes.normal(std=0.002)),
        (zoo.LayerNorm, "default"),
        (nn.Embedding, initlab.schemes.normal(std=0.5)),
    ])  # fmt: skip
    assert p["transformer.h.1.mlp.c_proj.weight"].std == 0.002
    assert "rule '*.c_proj.weight'" in p["transformer.h.1.mlp.c_proj.weight"].reason
    assert p["transformer.wpe.weight"].std == 0.5
    assert p["transformer.h.0.ln_1.weight"].mean == 1.0
    initlab.apply_plan(m, p, seed=0)
    check_plan(m, p)


def test_later_rules_win_and_strings_are_schemes() -> None:
    m, x = _gpt()
    p = initlab.plan(m, x, rules=[("*c_fc.weight", "xavier"), ("*h.0.mlp.c_fc.weight", "zeros")])
    assert p["transformer.h.0.mlp.c_fc.weight"].std == 0
    assert p["transformer.h.1.mlp.c_fc.weight"].scheme.kind == "xavier"


def test_rule_matching_nothing_is_an_error() -> None:
    m, x = _gpt()
    with pytest.raises(InitError, match=r"rules\[0\].*'\*\.nope' matches no parameter"):
        initlab.plan(m, x, rules=[("*.nope", "zeros")])
    with pytest.raises(InitError, match=r"rules\[0\].*LSTM matches no parameter"):
        initlab.plan(m, x, rules=[(nn.LSTM, "zeros")])


def test_malformed_rules_say_what_to_pass() -> None:
    m, x = _gpt()
    with pytest.raises(InitError, match="expected a \\(pattern, scheme\\) pair"):
        initlab.plan(m, x, rules=["*.weight"])
    with pytest.raises(InitError, match=r"initlab\.schemes"):
        initlab.plan(m, x, rules=[("*.weight", "gaussian")])
    with pytest.raises(InitError, match=r"needs no fans|no fan_in"):
        initlab.plan(m, x, rules=[("*.bias", "xavier")])


def test_frozen_and_pretrained_are_never_written() -> None:
    m, x = _gpt()
    m.transformer.wpe.weight.requires_grad_(False)
    initlab.mark_pretrained(m.transformer.h[0])
    wpe = m.transformer.wpe.weight.clone()
    block = {k: v.clone() for k, v in m.transformer.h[0].state_dict().items()}
    p = initlab.init(m, x, seed=1)
    assert p["transformer.wpe.weight"].status == "frozen"
    assert p["transformer.h.0.attn.c_attn.weight"].status == "pretrained"
    assert torch.equal(m.transformer.wpe.weight, wpe)
    assert all(torch.equal(v, block[k]) for k, v in m.transformer.h[0].state_dict().items())
    # apply_plan re-checks even for a plan that says "init"
    q = initlab.plan(zoo.nano_gpt(), x)
    initlab.apply_plan(m, q, seed=1)
    assert torch.equal(m.transformer.wpe.weight, wpe)
    # overwrite=True writes them
    p2 = initlab.init(m, x, seed=1, overwrite=True)
    assert p2["transformer.wpe.weight"].status == "init"
    assert not torch.equal(m.transformer.wpe.weight, wpe)


def test_skip_patterns_and_types() -> None:
    m, x = _gpt()
    c_fc = m.transformer.h[1].mlp.c_fc.weight.clone()
    p = initlab.init(m, x, skip=["*.h.1.mlp.*", zoo.LayerNorm])
    assert p["transformer.h.1.mlp.c_fc.weight"].status == "skipped"
    assert p["transformer.ln_f.weight"].status == "skipped"
    assert torch.equal(m.transformer.h[1].mlp.c_fc.weight, c_fc)


def test_skip_pattern_matching_nothing_is_an_error() -> None:
    """A typo in skip= would let init overwrite what it was meant to protect: an error, like a
    rule that matches nothing."""
    m, x = _gpt()
    with pytest.raises(InitError, match=r"skip\[1\]: pattern 'encoder\.\*' matches no parameter "
                       r"or module; names look like transformer\..*fix the pattern"):
        initlab.init(m, x, skip=["*.h.1.mlp.*", "encoder.*"])
    with pytest.raises(InitError, match=r"skip\[0\]: pattern BatchNorm2d matches no parameter"):
        initlab.plan(m, x, skip=[nn.BatchNorm2d])
    with pytest.raises(InitError, match=r"skip\[0\]: expected a glob .* or an nn\.Module class"):
        initlab.plan(m, x, skip=[3])
    r = zoo.resnet()  # a buffer name is a valid target
    p = initlab.plan(r, r.example_input(2), skip="bn1.running_mean")  # one pattern, not a list
    assert p["bn1.running_mean"].status == "skipped"


def test_tied_weights_written_once_and_stay_tied() -> None:
    m, x = _gpt()
    p = initlab.init(m, x, seed=0)
    names = [r.name for r in p]
    assert "transformer.wte.weight" not in names and "lm_head.weight" in names
    assert m.lm_head.weight is m.transformer.wte.weight
    assert p["transformer.wte.weight"].name == "lm_head.weight"  # looked up by alias


def test_batchnorm_running_stats_are_reset() -> None:
    m = zoo.resnet()
    m.train()
    m(m.example_input(8) * 3 + 1)
    assert m.bn1.num_batches_tracked.item() == 1
    p = initlab.init(m, m.example_input(2))
    assert p["bn1.running_var"].tensor == "buffer"
    assert torch.all(m.bn1.running_mean == 0) and torch.all(m.bn1.running_var == 1)
    assert m.bn1.num_batches_tracked.item() == 0


class Odd(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.full((4, 4, 4), 7.0))
        self.lin = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(torch.einsum("bi,ijk->bk", x, self.table))


def test_unknown_layout_is_kept_and_warned() -> None:
    m = Odd()
    p = initlab.init(m, torch.randn(2, 4))
    row = p["table"]
    assert row.status == "kept" and "unknown layout" in row.reason and "add a rule" in row.reason
    assert any("table" in w for w in p.warnings)
    assert torch.all(m.table == 7.0)
    p2 = initlab.init(m, torch.randn(2, 4), rules=[("table", initlab.schemes.normal(0.1))])
    assert p2["table"].status == "init" and not p2.warnings
    assert not torch.all(m.table == 7.0)


def test_plan_json_roundtrip_and_apply_from_json() -> None:
    m, x = _gpt()
    p = initlab.plan(m, x, policy="gpt2")
    text = p.to_json()
    assert json.loads(text)["summary"]["init"] == len(p.written)
    q = InitPlan.from_json(text)
    assert q == p
    a, b = zoo.nano_gpt(), zoo.nano_gpt()
    initlab.apply_plan(a, p, seed=5)
    initlab.apply_plan(b, q, seed=5)
    pairs = zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    assert all(torch.equal(u, v) for u, v in pairs)
    with pytest.raises(InitError, match="not an initlab plan"):
        InitPlan.from_json('{"rows": 3}')


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_plan_json_roundtrip_on_every_zoo_model(name: str) -> None:
    """to_json → from_json gives the same plan (rows, schemes, calls, policy with options) on
    every zoo model, and the JSON is stable under a second round trip."""
    m = zoo.ZOO[name]()
    for policy in ("auto", initlab.policies.critical(sigma_b2=0.05)):
        p = initlab.plan(m, m.example_input(2), policy=policy)
        text = p.to_json()
        q = InitPlan.from_json(text)
        assert q == p, name
        assert q.to_json() == text
        assert initlab.policies.parse(q.policy) == initlab.policies.parse(policy)


def test_plan_prints_a_table() -> None:
    from initlab.report.plan_table import plan_text

    m, x = _gpt()
    p = initlab.plan(m, x)
    text = plan_text(p, width=200)  # the wide table: names and aliases on one line
    assert "lm_head.weight (= transformer.wte.weight)" in text
    assert "attn_qkv" in text and "written" in text
    assert max(len(line) for line in str(p).splitlines()) <= 100  # str(): a 100-column terminal


def test_apply_plan_rejects_a_plan_of_another_model() -> None:
    p = initlab.plan(nn.Linear(4, 4), torch.randn(1, 4))
    with pytest.raises(InitError, match="no such parameter"):
        initlab.apply_plan(nn.Sequential(nn.Linear(4, 4)), p)
    with pytest.raises(InitError, match="shape"):
        initlab.apply_plan(nn.Linear(4, 5), p)
    with pytest.raises(InitError, match="InitPlan"):
        initlab.apply_plan(nn.Linear(4, 4), {"rows": []})  # type: ignore[arg-type]


def test_embedding_padding_row_stays_zero() -> None:
    m = nn.Sequential(nn.Embedding(50, 8, padding_idx=3), nn.Linear(8, 2))
    p = initlab.init(m, torch.randint(0, 50, (2, 5)))
    assert torch.all(m[0].weight[3] == 0) and "padding_idx" in p["0.weight"].reason
    assert float(m[0].weight.detach().std()) == pytest.approx(1.0, abs=6 / math.sqrt(2 * 400))


def test_schemes_validate_their_arguments() -> None:
    with pytest.raises(InitError, match="std must be"):
        initlab.schemes.normal(std=-1)
    with pytest.raises(InitError, match="swap"):
        initlab.schemes.uniform(1, 0)
    with pytest.raises(InitError, match="distribution"):
        initlab.schemes.xavier(distribution="laplace")
    with pytest.raises(InitError, match=r"nn\.Module"):
        initlab.mark_pretrained("encoder")  # type: ignore[arg-type]


def test_plan_refuses_torchscript_with_a_clear_error() -> None:
    import pytest
    import torch
    from torch import nn

    import initlab

    scripted = torch.jit.script(nn.Sequential(nn.Linear(4, 4), nn.ReLU()))
    with pytest.raises(initlab.errors.InitError, match=r"TorchScript.*eager module"):
        initlab.plan(scripted, torch.randn(2, 4))
