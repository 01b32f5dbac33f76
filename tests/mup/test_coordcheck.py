"""The coordinate check (Yang et al. 2022, sec. 6 / App. D.1): standard parametrization with
Adam grows with width after one step, μP stays flat; slope fitting, verdicts, transfer-check
arithmetic, the CLI and its report."""

from __future__ import annotations

import json
import math
import textwrap

import pytest
from torch import nn
from typer.testing import CliRunner

from initlab.cli import app
from initlab.errors import InitError
from initlab.lab.coordcheck import _optimum, _slope, coord_check, lr_sweep

WIDTHS = (64, 128, 256, 512)
SEEDS = 3


def mlp(width: int) -> nn.Module:
    return nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, 10))


@pytest.fixture(scope="module")
def result():
    return coord_check(mlp, WIDTHS, steps=2, seeds=SEEDS, lr=1e-2, optimizer="adam")


def test_sp_with_adam_grows_after_one_step(result):
    """SP + Adam: ΔW·x sums n aligned Θ(η) terms, so after one step the hidden pre-activation
    grows ~ n (slope → 1 at large n; ~0.5 at these widths) and so do the logits. Tolerance: the
    seed mean minus 3 standard errors over the 3 seeds must clear the 0.25 threshold."""
    for layer in ("2", "4"):
        s = result.slope("torch", layer, 1)
        assert s.slope - 3 * s.se > 0.25, s
        assert s.verdict == "grows with width"
    assert result.verdicts["torch"] == "grows with width"


def test_sp_is_flat_at_init(result):
    """At step 0 SP (torch's 1/√fan_in) keeps hidden activations O(1): both start flat."""
    for layer in ("0", "1", "2", "3"):
        s = result.slope("torch", layer, 0)
        assert abs(s.slope) < 0.1 + 3 * s.se, s


def test_mup_is_flat(result):
    """μP: every layer's size is width-independent at every step. Tolerance 0.1 + 3 SE (3
    seeds): the asymptotic slope is 0; 0.1 covers the finite-width drift seen at 64..512
    (|slope| ≤ 0.06 measured)."""
    for layer in result.layers:
        for step in range(result.steps):
            s = result.slope("mup", layer, step)
            assert abs(s.slope) < 0.1 + 3 * s.se, s
    assert result.verdicts["mup"] == "stable"
    assert set(result.layer_verdicts("mup").values()) == {"stable"}


def test_result_serializes(result):
    d = json.loads(result.to_json())
    assert d["kind"] == "initlab.coordcheck/1" and d["widths"] == list(WIDTHS)
    sizes = d["sizes"]["mup"]["2"]
    assert len(sizes) == 2 and len(sizes[0]) == len(WIDTHS) and len(sizes[0][0]) == SEEDS
    assert len(d["slopes"]) == 2 * len(result.layers) * 2


def test_slope_fit_and_verdicts():
    ws = (64, 128, 256, 512)
    grow = [[3.0 * w ** 0.5 * (1 + 0.01 * s) for s in range(3)] for w in ws]
    s = _slope("p", "l", 1, ws, grow, 0.25)
    assert s.slope == pytest.approx(0.5) and s.verdict == "grows with width"
    shrink = [[w ** -0.5] * 2 for w in ws]
    assert _slope("p", "l", 1, ws, shrink, 0.25).verdict == "shrinks with width"
    flat = [[1.0 + 0.1 * (i % 2)] * 2 for i, _ in enumerate(ws)]
    assert _slope("p", "l", 1, ws, flat, 0.25).verdict == "stable"
    assert _slope("p", "l", 0, ws, [[0.0]] * 4, 0.25).slope == 0.0  # zero readout: flat
    assert _slope("p", "l", 1, ws, [[1.0], [math.inf], [1.0], [1.0]], 0.25).verdict == \
        "not finite"
    # a large slope that the seeds do not agree on is not called growth
    noisy = [[w ** 0.4, w ** -0.2] for w in ws]
    assert _slope("p", "l", 1, ws, noisy, 0.25).verdict == "stable"


def test_optimum_is_the_parabola_vertex():
    lrs = [2.0 ** k for k in range(-6, 0)]
    loss = [math.exp((math.log2(lr) + 3.3) ** 2) for lr in lrs]  # minimum at 2^-3.3
    assert math.log2(_optimum(lrs, loss)) == pytest.approx(-3.3)
    assert _optimum(lrs, [1, 2, 3, 4, 5, 6]) == lrs[0]  # at the edge: the grid point


def test_lr_sweep_tiny():
    r = lr_sweep(mlp, widths=(16, 32), lrs=(1e-3, 1e-2, 1e-1), steps=4)
    assert set(r.verdicts) == {"torch", "mup"} and len(r.loss["mup"]) == 2
    assert json.loads(r.to_json())["kind"] == "initlab.lr_sweep/1"
    # at the base width μP (init="torch") and SP are the same model: identical losses
    assert r.loss["torch"][0] == pytest.approx(r.loss["mup"][0])


def test_bad_arguments():
    with pytest.raises(InitError, match="widths must be two"):
        coord_check(mlp, (64,))
    with pytest.raises(InitError, match="steps must be"):
        coord_check(mlp, (8, 16), steps=0)
    with pytest.raises(InitError, match="policies: unknown"):
        coord_check(mlp, (8, 16), policies=("sp",))
    with pytest.raises(InitError, match="rejected the batch"):
        coord_check(lambda w: nn.Linear(3, w), (8, 16), steps=1, seeds=1, policies=("torch",))
    with pytest.raises(InitError, match="lrs must be"):
        lr_sweep(mlp, widths=(8, 16), lrs=(1e-3,), steps=2)


# --------------------------------------------------------------------------------- CLI ----
runner = CliRunner()


@pytest.fixture()
def factory_file(tmp_path):
    f = tmp_path / "widenet.py"
    f.write_text(textwrap.dedent("""
        from torch import nn
        def make(width):
            return nn.Sequential(nn.Linear(6, width), nn.Tanh(), nn.Linear(width, 3))
    """))
    return f


def test_cli_json_figure_and_html(factory_file, tmp_path):
    out, page = tmp_path / "cc.png", tmp_path / "cc.html"
    r = runner.invoke(app, ["coordcheck", f"{factory_file}:make", "--widths", "16,32",
                            "--steps", "2", "--seeds", "1", "--input-shape", "8,6",
                            "--out", str(out), "--html", str(page), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert set(d["coordcheck"]["verdicts"]) == {"torch", "mup"}
    assert out.read_bytes()[:4] == b"\x89PNG"
    text = page.read_text()
    assert "data:image/png;base64," in text and "slopes per layer and step" in text


def test_cli_table_and_bad_usage(factory_file, tmp_path):
    r = runner.invoke(app, ["coordcheck", f"{factory_file}:make", "--widths", "16,32",
                            "--steps", "1", "--seeds", "1", "--input-shape", "8,6",
                            "--policy", "torch", "--no-plot"])
    assert r.exit_code == 0, r.output
    assert "torch: slope of log mean|x|" in r.output and "verdict" in r.output
    r = runner.invoke(app, ["coordcheck", f"{factory_file}:make", "--widths", "16"])
    assert r.exit_code == 2 and "--widths" in r.output
    r = runner.invoke(app, ["coordcheck", f"{factory_file}:make", "--widths", "16,32",
                            "--policy", "bogus", "--input-shape", "8,6"])
    assert r.exit_code == 2 and "policies: unknown" in r.output
    r = runner.invoke(app, ["coordcheck", f"{factory_file}:nothing"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["coordcheck", f"{factory_file}:make", "--input-shape", "8,6",
                            "--out", str(tmp_path / "fig.txt")])
    assert r.exit_code == 2 and "--out" in r.output  # checked before any training
