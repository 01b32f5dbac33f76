"""`initlab compare`: help, the table, JSON shape, HTML, exit codes."""

import json

from typer.testing import CliRunner

from initlab.cli import app

runner = CliRunner()
TINY = ["--depth", "2", "--width", "16", "--epochs", "2"]


def test_help_has_an_example():
    r = runner.invoke(app, ["compare", "--help"])
    assert r.exit_code == 0 and "Example" in r.output


def test_table_figure_and_html(tmp_path):
    out, page = tmp_path / "c.png", tmp_path / "c.html"
    r = runner.invoke(app, ["compare", *TINY, "--out", str(out), "--html", str(page)])
    assert r.exit_code == 0, r.output
    for word in ("zeros", "normal", "xavier", "he", "accuracy", "verdict", "figure", "report"):
        assert word in r.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert "data:image/png;base64," in page.read_text()


def test_json_shape_with_seeds_and_registry_names():
    r = runner.invoke(app, ["compare", *TINY, "--inits", "zeros,normal(std=0.1),he",
                            "--seeds", "2", "--json", "--no-plot"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["schema"] == "initlab.compare/1" and d["figure"] is None
    assert d["config"]["depth"] == 2 and d["config"]["width"] == 16 and d["seeds"] == [0, 1]
    assert [run["start"] for run in d["runs"]] == ["zeros", "zeros", "normal(std=0.1)",
                                                   "normal(std=0.1)", "he", "he"]
    run = d["runs"][-1]
    assert len(run["train_loss"]) == 2 and len(run["test_accuracy"]) == 2
    assert isinstance(run["diverged"], bool) and 0 <= run["final_test_accuracy"] <= 1
    assert run["config"]["activation"] == "relu"
    he = d["summary"][-1]
    assert he["start"] == "he" and he["verdict0"] == "healthy" and len(he["grad_var0"]) == 3


def test_bad_start_is_one_red_line_exit_2():
    r = runner.invoke(app, ["compare", *TINY, "--inits", "zeros,fancy", "--no-plot"])
    assert r.exit_code == 2
    assert "unknown start 'fancy'" in r.output and "Traceback" not in r.output
    assert len([ln for ln in r.output.strip().splitlines() if ln.strip()]) == 1


def test_bad_numbers_exit_2():
    for args in (["--depth", "0"], ["--epochs", "0"], ["--activation", "nosuch"],
                 ["--optimizer", "rmsprop"], ["--dataset", "cifar"], ["--model", "vit"],
                 ["--seeds", "0"]):
        r = runner.invoke(app, ["compare", *TINY, *args, "--no-plot"])
        assert r.exit_code == 2, args
        assert "error" in r.output, args
