"""`initlab doctor`: exit codes 0/1/2, JSON, figure and HTML outputs, --init."""

from __future__ import annotations

import json
import textwrap

import pytest
from typer.testing import CliRunner

from initlab.cli import app

runner = CliRunner()

FACTORIES = textwrap.dedent(
    """
    import torch
    from torch import nn

    def healthy():
        torch.manual_seed(0)
        layers = []
        for _ in range(6):
            lin = nn.Linear(32, 32)
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            nn.init.zeros_(lin.bias)
            layers += [lin, nn.ReLU()]
        return nn.Sequential(*layers, nn.Linear(32, 4))

    def tanh_net():
        return nn.Sequential(*[m for _ in range(8) for m in (nn.Linear(32, 32), nn.Tanh())])

    def needs_arg(width):
        return nn.Linear(width, width)

    def not_a_model():
        return [1, 2]

    INSTANCE = nn.Linear(32, 4)
    """
)


@pytest.fixture
def factories(tmp_path):
    p = tmp_path / "factories.py"
    p.write_text(FACTORIES)
    return p


def run(*args: str):
    return runner.invoke(app, ["doctor", *args])


def test_healthy_exits_0_even_with_strict(factories):
    r = run(f"{factories}:healthy", "--input-shape", "16,32", "--strict")
    assert r.exit_code == 0, r.output
    assert "Healthy" in r.output and "No problems found" in r.output


def test_problems_exit_1_only_with_strict(factories):
    args = (f"{factories}:tanh_net", "--input-shape", "16,32", "--init", "small")
    r = run(*args)
    assert r.exit_code == 0, r.output
    assert "Vanishing" in r.output and "init: small" in r.output
    assert run(*args, "--strict").exit_code == 1


def test_json_figure_html(factories, tmp_path):
    png, page = tmp_path / "dx.png", tmp_path / "dx.html"
    r = run(
        f"{factories}:tanh_net",
        "-s",
        "16,32",
        "--init",
        "normal",
        "--json",
        "--plot",
        str(png),
        "--html",
        str(page),
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["schema"] == "initlab.diagnosis/1" and data["verdict"] == "saturated"
    assert png.stat().st_size > 10_000
    text = page.read_text()
    assert "data:image/png;base64," in text and "<script" not in text and "saturated" in text


def test_instance_and_module_path(factories):
    assert run(f"{factories}:INSTANCE", "-s", "4,32").exit_code == 0
    r = run("tests.probe.models:SmallResNet", "-s", "2,3,8,8")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize(
    ("target", "shape", "message"),
    [
        ("nocolon", "4,32", "TARGET must look like pkg.module:factory"),
        ("no_such_pkg_xyz:f", "4,32", "cannot import 'no_such_pkg_xyz'"),
        ("{f}:missing", "4,32", "has no attribute 'missing'"),
        ("{f}:needs_arg", "4,32", "needs_arg(width) with no arguments failed"),
        ("{f}:not_a_model", "4,32", "returned a list, not an nn.Module"),
        ("{f}:healthy", "4,x", "--input-shape must be positive integers"),
        ("{f}:healthy", "4,0", "--input-shape must be positive integers"),
        ("{f}:healthy", "4,33", "the model rejected --input-shape 4,33"),
    ],
)
def test_bad_usage_exits_2(factories, target, shape, message):
    r = run(target.format(f=factories), "--input-shape", shape)
    assert r.exit_code == 2, r.output
    flat = " ".join(r.output.split())
    assert message in flat
    assert "Traceback" not in r.output
    if "rejected" in message:
        # the model's own error, and the argument to change
        assert "mat1 and mat2" in flat and "change --input-shape" in flat


def test_bad_dtype_exits_2(factories):
    r = run(f"{factories}:healthy", "-s", "4,32", "--dtype", "int3")
    assert r.exit_code == 2
    assert "--dtype must be one of auto, float32" in " ".join(r.output.split())


def test_unknown_init_exits_2_with_the_list(factories):
    r = run(f"{factories}:healthy", "-s", "4,32", "--init", "fancy_policy_xyz")
    assert r.exit_code == 2
    flat = " ".join(r.output.split())
    assert "--init: unknown policy 'fancy_policy_xyz'" in flat
    for name in ("auto", "gpt2", "delta_orthogonal", "critical", "zeros", "small", "normal"):
        assert name in flat


@pytest.mark.parametrize(
    "policy",
    [
        "auto",
        "torch",
        "xavier",
        "he",
        "lecun",
        "orthogonal",
        "gpt2",
        "zero_residual",
        "critical",
    ],
)
def test_every_init_policy_is_accepted(factories, policy):
    r = run(f"{factories}:healthy", "-s", "8,32", "--init", policy, "--json")
    assert r.exit_code == 0, r.output
    assert f"initlab.init(model, policy={policy!r}" in r.output
    assert json.loads(r.stdout)["schema"] == "initlab.diagnosis/1"


def test_policy_for_cnns_and_resnets(tmp_path):
    # delta_orthogonal needs a conv net, fixup residual branches: the zoo ResNet has both
    for policy in ("delta_orthogonal", "fixup"):
        r = run("initlab.lab.zoo:resnet", "-s", "2,3,16,16", "--init", policy)
        assert r.exit_code == 0, r.output
        assert f"policy={policy!r}" in " ".join(r.output.split())


def test_policy_refusing_the_model_exits_2(factories):
    r = run(f"{factories}:healthy", "-s", "4,32", "--init", "delta_orthogonal")
    assert r.exit_code == 2
    assert "delta_orthogonal" in " ".join(r.output.split()) and "Traceback" not in r.output


def test_token_ids_auto_and_vocab():
    r = run("initlab.lab.zoo:nano_gpt", "-s", "2,16", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["input"]["dtype"] == "int64"
    assert run("initlab.lab.zoo:nano_gpt", "-s", "2,16", "--vocab", "7").exit_code == 0
    # ids beyond the Embedding's 256 rows: the model's own error, exit 2
    r = run("initlab.lab.zoo:nano_gpt", "-s", "2,16", "--vocab", "100000")
    assert r.exit_code == 2
    assert "the model rejected --input-shape 2,16" in " ".join(r.output.split())


def test_fix_applies_the_best_verified_fix_and_prints_before_after(factories, tmp_path):
    out = tmp_path / "fixed.pt"
    r = run(f"{factories}:tanh_net", "--input-shape", "16,32", "--init", "small", "--fix",
            "--save", str(out), "--strict")  # fmt: skip
    assert r.exit_code == 0, r.output  # --strict judges the model after the fix
    text = " ".join(r.output.split())  # the console wraps long lines
    assert "before: vanishing" in text and "after: healthy" in text
    assert "tried: after initlab.init(model, x, policy=" in text
    import torch

    state = torch.load(out)
    assert float(state["0.weight"].std()) > 0.05  # not the N(0, 0.01²) start any more


def test_fix_json_has_before_fix_after(factories):
    r = run(f"{factories}:tanh_net", "--input-shape", "16,32", "--init", "small", "--fix",
            "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["before"]["verdict"] == "vanishing" and d["after"]["verdict"] == "healthy"
    assert d["fix"]["improves"] and d["fix"]["verdict_after"] == "healthy"


def test_fix_on_a_healthy_model_changes_nothing(factories):
    r = run(f"{factories}:healthy", "--input-shape", "16,32", "--fix")
    assert r.exit_code == 0, r.output
    assert "nothing to fix" in r.output
