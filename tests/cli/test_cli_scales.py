"""`initlab scale` and `initlab gain`."""

import json

import pytest
from typer.testing import CliRunner

from initlab.cli import app

runner = CliRunner()


def test_scale_table_and_json():
    r = runner.invoke(app, ["scale", "1024", "512"])
    assert r.exit_code == 0, r.output
    assert "xavier" in r.output and "±0.0625" in r.output
    r = runner.invoke(app, ["scale", "1024", "512", "--json"])
    rows = {d["scheme"]: d for d in json.loads(r.output)}
    assert rows["he"]["variance"] == pytest.approx(2 / 1024)


def test_gain_json_has_all_three_kinds():
    r = runner.invoke(app, ["gain", "tanh", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["torch_gain"] == pytest.approx(5 / 3)
    assert d["variance_gain"] == pytest.approx(1.592537, abs=1e-6)
    assert d["critical_gain"] == pytest.approx(1.0)


def test_gain_with_param():
    r = runner.invoke(app, ["gain", "leaky_relu", "--param", "negative_slope=0.2", "--json"])
    assert json.loads(r.output)["variance_gain"] == pytest.approx(1.386750, abs=1e-6)


@pytest.mark.parametrize(
    "args, message",
    [
        (["gain", "nope"], "unknown activation"),
        (["gain", "relu", "--param", "oops"], "NAME=VALUE"),
        (["scale", "0", "5"], "fan_in must be a positive number"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message, capsys):
    from initlab.cli import main

    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_gain_shows_the_stable_critical_init_point():
    """GELU's σ_b = 0 point and its q* = 1 point repel (length-map slope at q* = 1 ≈ 1.07 > 1,
    Schoenholz et al. 2017's ξ_q bracket); critical_init now picks the smallest q* ≥ 1 that
    attracts (slope 0.99, q* ≈ 5.109), and the table says so with the slope; tanh's σ_b = 0
    point attracts and is called stable."""
    r = runner.invoke(app, ["gain", "gelu"], env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    row = next(line for line in r.output.splitlines() if "critical init" in line)
    assert "stable edge-of-chaos" in row and "q* = 5.109" in row and "slope 0.99" in row
    assert "repels" not in row
    r = runner.invoke(app, ["gain", "tanh"], env={"COLUMNS": "250"})
    assert "stable edge-of-chaos" in r.output
