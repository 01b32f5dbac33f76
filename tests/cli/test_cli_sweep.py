"""`initlab sweep` and `initlab sweep show`: output, JSON, heatmap, exit codes."""

import json

from typer.testing import CliRunner

from initlab.cli import app

runner = CliRunner()
TINY = "dataset=spirals width=8 epochs=1 n_train=128 n_test=64 batch_size=64"


def test_sweep_then_show_table_heatmap_and_json(tmp_path):
    store = tmp_path / "runs.sqlite"
    grid = f"sigma_w2=1,2 depth=1,2 seed=0,1 {TINY}"
    r = runner.invoke(app, ["sweep", "--grid", grid, "--store", str(store)])
    assert r.exit_code == 0, r.output
    assert "8 run(s) finished now" in r.output
    r = runner.invoke(app, ["sweep", "--grid", grid, "--store", str(store), "--resume",
                            "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["skipped"] == 8
    out = tmp_path / "heat.png"
    r = runner.invoke(app, ["sweep", "show", str(store), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "sigma_w2" in r.output and "depth" in r.output and "figure" in r.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    r = runner.invoke(app, ["sweep", "show", str(store), "--json", "--no-plot"])
    d = json.loads(r.stdout)
    assert d["runs"] == 8 and len(d["groups"]) == 4 and all(g["n"] == 2 for g in d["groups"])


def test_help_and_bad_usage(tmp_path):
    r = runner.invoke(app, ["sweep", "--help"])
    assert r.exit_code == 0 and "Example" in r.output
    r = runner.invoke(app, ["sweep", "show", "--help"])
    assert r.exit_code == 0 and "Example" in r.output
    for args, words in ((["sweep"], "give --grid"),
                        (["sweep", "--grid", "depth=x"], "takes integers"),
                        (["sweep", "show", str(tmp_path / "none.sqlite")], "no sweep store")):
        r = runner.invoke(app, args)
        assert r.exit_code == 2, args
        assert words in r.output and "Traceback" not in r.output
    store = tmp_path / "s.sqlite"
    runner.invoke(app, ["sweep", "--grid", f"depth=1,2 {TINY}", "--store", str(store)])
    r = runner.invoke(app, ["sweep", "show", str(store), "--x", "lr"])
    assert r.exit_code == 2 and "does not vary" in r.output
