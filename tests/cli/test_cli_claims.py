"""`initlab claims`: help, one claim's table, the all-claims table, JSON, HTML, exit codes.

The command's experiments are tested in tests/lab/claims at tiny sizes; here the two fastest
claims (linear and ReLU variance, well under a second at quick size) stand in for all of them.
"""

import json

import pytest
from typer.testing import CliRunner

import initlab.lab.claims as claims_pkg
from initlab.cli import app

runner = CliRunner()
FAST = ["linear_variance", "relu_variance"]


@pytest.fixture
def two_claims(monkeypatch):
    monkeypatch.setattr(claims_pkg, "available_claims", lambda: list(FAST))


def test_help_has_an_example_and_list_names_every_claim():
    r = runner.invoke(app, ["claims", "--help"])
    assert r.exit_code == 0 and "Example" in r.output
    r = runner.invoke(app, ["claims", "--list"])
    assert r.exit_code == 0
    for name in claims_pkg.CLAIMS:
        assert name in r.output


def test_one_claim_prints_effects_and_saves_the_figure(tmp_path):
    r = runner.invoke(app, ["claims", "relu_variance", "--quick", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    for word in ("Xavier forward", "He backward", "supported", "figure"):
        assert word in r.output
    assert (tmp_path / "relu_variance.png").read_bytes()[:4] == b"\x89PNG"


def test_all_claims_table_and_html(two_claims, tmp_path):
    html = tmp_path / "claims.html"
    r = runner.invoke(app, ["claims", "--out", str(tmp_path), "--html", str(html)])
    assert r.exit_code == 0, r.output
    assert "linear_variance" in r.output and "relu_variance" in r.output
    text = html.read_text()
    assert text.count("data:image/png;base64,") == 2
    assert "supported" in text and "Rosetta Stone" in text


def test_json_one_and_all(two_claims):
    r = runner.invoke(app, ["claims", "linear_variance", "--quick", "--json", "--no-plot",
                            "--seeds", "2"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["schema"] == "initlab.experiment/1" and d["name"] == "linear_variance"
    assert d["verdict"] in ("supported", "partly", "not supported")
    assert d["settings"]["seeds"] == [0, 1] and d["figure_path"] is None
    r = runner.invoke(app, ["claims", "--json", "--no-plot", "--seeds", "2"])
    d = json.loads(r.stdout)
    assert [x["name"] for x in d["results"]] == FAST


def test_unknown_claim_is_one_red_line_exit_2():
    r = runner.invoke(app, ["claims", "gravity", "--no-plot"])
    assert r.exit_code == 2
    assert "unknown claim" in r.output and "Traceback" not in r.output


def test_bad_seeds_exit_2():
    r = runner.invoke(app, ["claims", "linear_variance", "--seeds", "0", "--no-plot"])
    assert r.exit_code == 2 and "seeds" in r.output
