"""`initlab reproduce`: the list, one tiny run (JSON + files), exit codes 0/1/2."""

import json

from typer.testing import CliRunner

from initlab.cli import app

runner = CliRunner()
# a 3-layer he2015 in a few steps: whatever its verdict, the command must write and print it
TINY = ["reproduce", "he2015", "--quick", "--set", "depth=3", "--set", "width=8",
        "--set", "steps=10", "--set", "seeds=1"]


def test_help_has_an_example():
    r = runner.invoke(app, ["reproduce", "--help"])
    assert r.exit_code == 0 and "Example" in r.output


def test_no_name_lists_them():
    r = runner.invoke(app, ["reproduce"])
    assert r.exit_code == 0, r.output
    for name in ("exercise", "he2015", "glorot2010", "schoenholz2017", "saxe2014", "zhang2019",
                 "pennington2017"):
        assert name in r.output
    r = runner.invoke(app, ["reproduce", "--json"])
    d = json.loads(r.stdout)
    assert [x["name"] for x in d][:2] == ["exercise", "he2015"] and "quick" in d[0]


def test_one_run_writes_json_and_figure(tmp_path):
    r = runner.invoke(app, [*TINY, "--out", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["schema"] == "initlab.experiment/1" and d["name"] == "he2015"
    assert d["verdict"] in ("supported", "partly", "not supported")
    assert d["settings"]["depth"] == 3 and d["settings"]["quick"] is True
    saved = json.loads((tmp_path / "he2015.json").read_text())
    assert saved["effects"] == d["effects"]
    assert (tmp_path / "he2015.png").read_bytes()[:4] == b"\x89PNG"
    assert d["files"]["figure"] == str(tmp_path / "he2015.png")


def test_table_view_and_strict_exit_code(tmp_path):
    # He and Xavier swapped: the claim cannot hold (10 steps: at best one of its two checks
    # passes), so --strict exits 1 (and the numbers are still written)
    args = [*TINY, "--set", "baseline=he", "--set", "proposed=xavier", "--out", str(tmp_path),
            "--no-plot"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert ("partly" in r.output or "not supported" in r.output) and "he2015.json" in r.output
    r = runner.invoke(app, [*args, "--strict"])
    assert r.exit_code == 1
    assert not (tmp_path / "he2015.png").exists()


def test_bad_usage_exits_2_with_one_line(tmp_path):
    for args in (["reproduce", "nope"],
                 ["reproduce", "he2015", "--set", "nokey"],
                 ["reproduce", "he2015", "--quick", "--set", "bogus=1"],
                 ["reproduce", "all", "--quick", "--set", "steps=1"]):
        r = runner.invoke(app, [*args, "--out", str(tmp_path)])
        assert r.exit_code == 2, (args, r.output)
        assert "error:" in r.output and "Traceback" not in r.output
