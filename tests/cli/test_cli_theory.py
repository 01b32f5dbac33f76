"""`initlab theory` and `initlab phase`: human view, --json, and one-line errors with exit 2."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from initlab.cli import app

runner = CliRunner()


def test_theory_human_view():
    r = runner.invoke(app, ["theory", "tanh", "--sigma-w2", "2.5", "--sigma-b2", "0.05"])
    assert r.exit_code == 0, r.output
    for text in ("q*", "χ₁", "ξ_c", "chaotic", "critical σ_w²", "1.76095", "11.7956"):
        assert text in r.output


def test_theory_json_defaults_to_the_critical_point():
    r = runner.invoke(app, ["theory", "tanh", "--sigma-b2", "0.05", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["phase"] == "critical"
    assert d["critical_sigma_w2"] == pytest.approx(1.760955, rel=1e-5)
    assert d["sigma_w2"] == d["critical_sigma_w2"] and d["xi_c"] is None


def test_theory_activation_parameters():
    r = runner.invoke(app, ["theory", "leaky_relu", "--param", "negative_slope=0.2", "--json"])
    d = json.loads(r.output)
    assert d["critical_sigma_w2"] == pytest.approx(2 / 1.04)
    assert d["params"] == {"negative_slope": 0.2}


@pytest.mark.parametrize(
    "args,match",
    [
        (["theory", "nope"], "unknown activation 'nope'"),
        (["theory", "tanh", "--sigma-w2", "-1"], "sigma_w2 must be a finite variance"),
        (["theory", "tanh", "--sigma-b2", "-0.5"], "sigma-b2 must be a finite variance"),
        (["theory", "relu", "--sigma-w2", "3"], "no fixed point"),
        (["theory", "relu", "--sigma-b2", "0.1"], "no critical point"),
        (["theory", "tanh", "--param", "oops"], "NAME=VALUE"),
        (["phase", "nope", "--out", "x.png"], "unknown activation"),
        (["phase", "tanh", "--w-min", "-1", "--out", "x.png"], "--w-min must be a finite"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, match):
    r = runner.invoke(app, args)
    assert r.exit_code == 2
    out = r.output.strip()
    assert match in out and len(out.splitlines()) == 1 and "Traceback" not in out


def test_phase_writes_figure(tmp_path):
    out = tmp_path / "phase.png"
    r = runner.invoke(app, ["phase", "tanh", "--out", str(out), "--points", "40", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert out.exists() and out.stat().st_size > 5000
    assert d["figure"] == str(out) and d["counts"]["chaotic"] > 0
    assert d["critical_line"][0]["critical_sigma_w2"] == pytest.approx(1.0)
    r = runner.invoke(app, ["phase", "relu", "--out", str(tmp_path / "r.png"), "--points", "20"])
    assert r.exit_code == 0 and "no_fixed_point" in r.output


def test_help_has_examples():
    for cmd in ("theory", "phase"):
        r = runner.invoke(app, [cmd, "--help"])
        assert r.exit_code == 0 and "Example" in r.output


def test_console_script_exit_code():
    r = subprocess.run(
        [sys.executable, "-m", "initlab", "theory", "tanh", "--sigma-w2", "-1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "sigma_w2" in r.stderr


def test_default_critical_point_not_reached_is_explained():
    """GELU's critical point at σ_b² = 0 is σ_w² = 4 with q* = 0, which repels (the length map
    from q⁰ = 1 diverges). Without --sigma-w2 the user did not choose σ_w², so "lower sigma_w2"
    is no help: the line must name the critical point and the options that work."""
    r = runner.invoke(app, ["theory", "gelu"])
    assert r.exit_code == 2
    out = r.output.strip()
    assert len(out.splitlines()) == 1 and "Traceback" not in out
    for fragment in ("critical point", "σ_w² = 4", "from q⁰ = 1", "--sigma-w2", "critical_init"):
        assert fragment in out, f"{fragment!r} not in {out!r}"


def test_gated_unit_points_to_its_gate_not_to_sigma_w2():
    """SwiGLU has no single-input mean field: the one line says to pass its gate, and does not
    send the user to --sigma-w2 (which fails the same way)."""
    r = runner.invoke(app, ["theory", "swiglu"])
    assert r.exit_code == 2
    out = r.output.strip()
    assert "gated unit" in out and "'silu'" in out and "--sigma-w2" not in out


def test_theory_reports_whether_q_star_attracts():
    """GELU on the critical line at q* = 1: χ₁ = 1 but the length map's slope is ≈ 1.067 > 1
    (q* repels): the table says "q* stable  no" and ξ_q "none"; JSON has q_stable false."""
    from initlab import theory

    ci = theory.critical_init("gelu", q_star=1.0)
    args = ["theory", "gelu", "--sigma-w2", repr(ci.sigma_w2), "--sigma-b2", repr(ci.sigma_b2)]
    r = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    row = next(line for line in r.output.splitlines() if "q* stable" in line)
    assert " no " in row and "1.06719" in r.output
    d = json.loads(runner.invoke(app, [*args, "--json"]).output)
    assert d["q_stable"] is False and d["length_slope"] > 1 and d["xi_q"] is None
    d = json.loads(runner.invoke(app, ["theory", "tanh", "--sigma-b2", "0.05", "--json"]).output)
    assert d["q_stable"] is True and d["length_slope"] < 1
