"""`initlab gain` checks its inputs before computing and lists the activations it knows."""

import json

from typer.testing import CliRunner

from initlab.cli import app

runner = CliRunner()


def test_negative_bias_variance_is_one_line_and_exit_2():
    r = runner.invoke(app, ["gain", "tanh", "--sigma-b2", "-1"])
    assert r.exit_code == 2
    assert "--sigma-b2" in r.output and "≥ 0" in r.output
    assert "Traceback" not in r.output and "┃" not in r.output  # no table printed


def test_list_names_every_activation():
    r = runner.invoke(app, ["gain", "--list", "--json"])
    assert r.exit_code == 0
    names = json.loads(r.output)
    assert {"relu", "tanh", "gelu", "swiglu"} <= set(names)


def test_missing_activation_says_what_to_do():
    r = runner.invoke(app, ["gain"])
    assert r.exit_code == 2
    assert "--list" in r.output
