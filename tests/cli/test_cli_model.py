"""``initlab plan`` / ``initlab init``: human view, --json, safetensors output, exit codes."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

import initlab
from initlab.cli import app
from initlab.cli.common import load_model_and_input
from initlab.errors import InitError
from initlab.lab import zoo

runner = CliRunner()


def test_plan_human_and_json() -> None:
    r = runner.invoke(app, ["plan", "initlab.lab.zoo:deep_mlp", "--input-shape", "4,32"])
    assert r.exit_code == 0, r.output
    assert "net.0.weight" in r.output
    r = runner.invoke(app, ["plan", "initlab.lab.zoo:nano_gpt", "-s", "2,16", "--policy", "gpt2",
                            "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["policy"] == "gpt2" and d["summary"]["init"] > 0
    r = runner.invoke(app, ["plan", "initlab.lab.zoo:deep_mlp", "-s", "4,32", "--policy",
                            "critical(q_star=1)"])
    assert r.exit_code == 0, r.output
    assert "critical(q_star=1)" in r.output


@pytest.mark.parametrize(("factory", "shape", "policy"), [
    ("nano_gpt", "2,16", "auto"),  # tied embedding / LM head
    ("resnet", "2,3,16,16", "critical(sigma_b2=0.05)"),  # BN buffers, policy options
    ("lstm_model", "2,10,8", "auto"),  # forget-gate bias blocks
])  # fmt: skip
def test_init_writes_safetensors_equal_to_the_library(
    tmp_path, factory: str, shape: str, policy: str  # type: ignore[no-untyped-def]
) -> None:
    """``initlab init ... --out w.safetensors`` round-trips: the file loaded into a fresh model
    equals initlab.init on that model (every parameter and buffer)."""
    from safetensors.torch import load_model

    out = tmp_path / "w.safetensors"
    r = runner.invoke(app, ["init", f"initlab.lab.zoo:{factory}", "-s", shape, "--out", str(out),
                            "--seed", "3", "--policy", policy, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["plan"]["policy"] == policy
    loaded = zoo.ZOO[factory]()
    load_model(loaded, str(out))
    ref, x = load_model_and_input(f"initlab.lab.zoo:{factory}", shape)
    initlab.init(ref, x, policy=policy, seed=3)
    fresh = zoo.ZOO[factory]().state_dict()
    changed = 0
    for (k, a), b in zip(ref.state_dict().items(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
        changed += not torch.equal(a, fresh[k])
    assert changed > 0


@pytest.mark.parametrize(("args", "message"), [
    (["plan", "no_such_pkg.mod:f", "-s", "2,3"], "cannot import 'no_such_pkg.mod'"),
    (["plan", "initlab.lab.zoo:nothing", "-s", "2,3"], "has no attribute 'nothing'"),
    (["plan", "initlab.lab.zoo:plain_cnn", "-s", "2,5,16,16"],
     "rejected --input-shape 2,5,16,16.*3 channels.*change --input-shape"),
    (["plan", "initlab.lab.zoo:deep_mlp", "-s", "4,32", "--policy", "kaiming"],
     "unknown policy 'kaiming'"),
    (["plan", "initlab.lab.zoo:deep_mlp", "-s", "4,32", "--policy", "critical(sigma_b2=-1)"],
     "--policy: policy 'critical': option sigma_b2 must be a finite variance ≥ 0"),
    (["plan", "initlab.lab.zoo:deep_mlp", "-s", "4,32", "--policy", "he(gain=2)"],
     "--policy: policy 'he': unknown option 'gain'; it takes no options"),
    (["plan", "initlab.lab.zoo:deep_mlp", "-s", "4,abc"], "--input-shape must be positive"),
])  # fmt: skip
def test_bad_usage_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())
    assert "Traceback" not in text
    import re

    assert re.search(message, text), text


def test_shared_loader() -> None:
    _, x = load_model_and_input("initlab.lab.zoo:nano_gpt", "2,16")
    assert x.dtype == torch.long and x.shape == (2, 16) and int(x.max()) < 256
    _, x = load_model_and_input("initlab.lab.zoo:resnet", "2,3,16,16")
    assert x.dtype == torch.float32
    with pytest.raises(InitError, match="--dtype"):
        load_model_and_input("initlab.lab.zoo:resnet", "2,3,16,16", dtype="int7")
