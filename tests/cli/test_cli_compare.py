"""`initlab compare`: help, the table, JSON shape, exit codes."""

import json

from typer.testing import CliRunner

from initlab.cli import app

runner = CliRunner()
TINY = ["--depth", "2", "--width", "16", "--epochs", "2"]


def test_help_has_an_example():
    r = runner.invoke(app, ["compare", "--help"])
    assert r.exit_code == 0 and "Example" in r.output


def test_table_and_figure(tmp_path):
    out = tmp_path / "c.png"
    r = runner.invoke(app, ["compare", *TINY, "--out", str(out)])
    assert r.exit_code == 0, r.output
    for word in ("zeros", "normal", "xavier", "he", "test accuracy", "diverged", "figure"):
        assert word in r.output
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_json_shape(tmp_path):
    r = runner.invoke(app, ["compare", *TINY, "--schemes", "zeros,he", "--json", "--no-plot"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["depth"] == 2 and d["width"] == 16 and d["epochs"] == 2 and d["figure"] is None
    assert [run["scheme"] for run in d["runs"]] == ["zeros", "he"]
    run = d["runs"][1]
    assert len(run["train_loss"]) == 2 and len(run["test_accuracy"]) == 2
    assert isinstance(run["diverged"], bool) and 0 <= run["final_test_accuracy"] <= 1
    assert run["config"]["activation"] == "relu"


def test_bad_scheme_is_one_red_line_exit_2():
    r = runner.invoke(app, ["compare", *TINY, "--schemes", "zeros,lsuv", "--no-plot"])
    assert r.exit_code == 2
    assert "unknown scheme" in r.output and "Traceback" not in r.output
    assert len([ln for ln in r.output.strip().splitlines() if ln.strip()]) == 1


def test_bad_numbers_exit_2():
    for args in (["--depth", "0"], ["--epochs", "0"], ["--activation", "nosuch"],
                 ["--optimizer", "rmsprop"]):
        r = runner.invoke(app, ["compare", *TINY, *args, "--no-plot"])
        assert r.exit_code == 2, args
        assert "error" in r.output, args
