"""Paper reproductions at tiny sizes: each verdict is computed from the run (never written in),
and flips when the key input flips (He ↔ Xavier, Fixup ↔ He, sigmoid → tanh).

The sizes below were chosen so that each run still shows the paper's effect with a wide margin
(measured: see docs/reproductions.md) while the whole file stays within its CI budget.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from initlab.errors import InitError
from initlab.lab.experiment import ExperimentResult, Verdict
from initlab.lab.reproduce import (
    NAMES,
    available_reproductions,
    get_reproduction,
    run_reproduction,
)
from initlab.report.reproduce_figures import plot_reproduction, result_table, verdicts_table

TINY = {
    "exercise": dict(dataset="digits", n_train=600, steps=80, width=32, depth=2, seeds=2,
                     grad_depth=6, grad_width=64, grad_batch=128),
    "he2015": dict(depth=20, width=64, steps=250, seeds=1),
    "glorot2010": dict(width=128, seeds=2, fig2_steps=150, fig2_width=64, fig2_lr=0.5,
                       fig2_every=10),
    "schoenholz2017": dict(sigma_w2=(1.0, "critical"), depths=(4, 30), width=32, steps=100,
                           lr=0.003, seeds=1),
    "saxe2014": dict(n=16, depths=(2, 8, 32), steps=500, seeds=1),
    "zhang2019": dict(blocks=12, width=32, steps=100, seeds=1),
    "pennington2017": dict(jacobian_depths=(4, 16), jacobian_width=64, train_depths=(24,),
                           width=32, steps=150, seeds=1),
}


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


_CACHE: dict[str, ExperimentResult] = {}


def tiny(name: str) -> ExperimentResult:
    """Each tiny run once per test session (several tests look at the same result)."""
    if name not in _CACHE:
        torch.set_num_threads(1)
        _CACHE[name] = run_reproduction(name, quick=True, **TINY[name])
    return _CACHE[name]


# ---------------------------------------------------------------------------- registry ------
def test_registry_lists_every_module():
    reps = available_reproductions()
    assert [r.name for r in reps] == list(NAMES) == list(TINY)
    for r in reps:
        assert r.title and r.source and r.claim
        d = r.to_dict()
        assert d["quick"] and d["full"] and d["quick"] != d["full"]


@pytest.mark.parametrize("bad", ["nope", "", None, 3])
def test_unknown_name_lists_the_names(bad):
    with pytest.raises(InitError, match="he2015"):
        get_reproduction(bad)


@pytest.mark.parametrize("over, match", [
    ({"bogus": 1}, "unknown setting.*bogus.*depth"),
    ({"depth": 0}, "depth must be an int ≥ 1"),
    ({"steps": 2.5}, "steps must be an int"),
    ({"lr": -0.1}, "lr must be a finite number > 0"),
    ({"lr": float("nan")}, "lr must be a finite number"),
    ({"baseline": 3}, "baseline must be a name"),
])
def test_bad_settings_are_refused_before_running(over, match):
    with pytest.raises(InitError, match=match):
        run_reproduction("he2015", quick=True, **over)


def test_bad_values_inside_the_run_are_refused():
    with pytest.raises(InitError, match="unknown start"):
        run_reproduction("he2015", quick=True, baseline="nonsense", depth=2, steps=1, seeds=1)
    with pytest.raises(InitError, match="sigma_w2"):
        run_reproduction("schoenholz2017", quick=True, sigma_w2=("x",), depths=(2,), steps=1)
    with pytest.raises(InitError, match="fig2_activation"):
        run_reproduction("glorot2010", quick=True, fig2_activation="gelu")
    with pytest.raises(InitError, match="quick must be"):
        get_reproduction("he2015").run(quick="yes")


def test_a_single_value_becomes_a_tuple():
    r = run_reproduction("saxe2014", quick=True, depths=4, steps=5, seeds=1, n=4)
    assert tuple(r.settings["depths"]) == (4,) and r.settings["quick"] is True


# ------------------------------------------------------------------ every reproduction ------
@pytest.mark.parametrize("name", list(TINY))
def test_tiny_run_supports_the_claim_and_draws(name, tmp_path):
    r = tiny(name)
    assert r.name == name
    assert r.verdict is Verdict.SUPPORTED, r.reason
    checks = r.numbers["checks"]
    assert checks and all(checks.values())  # the verdict is the AND of the stored checks
    back = ExperimentResult.from_json(r.to_json())  # JSON-safe, round trip
    assert back.verdict is r.verdict and back.effects == r.effects
    png = plot_reproduction(r, tmp_path / f"{name}.png")
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 20_000
    assert r.title in str(result_table(r).title)


def test_exercise_numbers():
    r = tiny("exercise")
    acc = r.numbers["final_accuracy"]
    assert max(acc["zeros"]) <= 0.15  # symmetry: one class predicted
    assert min(acc["he"]) > 0.6 and min(acc["xavier"]) > 0.6
    # He et al. 2015 eq. (10): backward variance ×1 per ReLU layer with Var = 2/n, ×½ with
    # Xavier's 1/n, so from the last of 6 hidden layers to the first: 2^0 vs 2^−5. Tolerance
    # 1.0 in log2 covers the finite width (64) and the ends (input 64 → 64, head 64 → 10).
    assert abs(r.effect("log2 grad-variance ratio[he]").value) < 1.0
    assert abs(r.effect("log2 grad-variance ratio[xavier]").value + 5) < 1.0


def test_he2015_forward_signal_matches_the_theory():
    r = tiny("he2015")
    # He et al. 2015 eq. (10): Xavier on ReLU multiplies the std by 1/√2 per layer, He by 1:
    # from layer 1 to layer 20, 2^−9.5 vs 2^0. At width 64 each layer's log2 std fluctuates by
    # ~√(1/(2·64))/ln 2 ≈ 0.13, ≈ 0.6 over 19 layers: 2.0 is > 3 standard deviations.
    assert r.effect("log2 std ratio[xavier]").value == pytest.approx(-9.5, abs=2.0)
    assert abs(r.effect("log2 std ratio[he]").value) < 2.0


def test_schoenholz_uses_the_theory():
    r = tiny("schoenholz2017")
    crit = r.numbers["critical_sigma_w2"]
    assert crit == pytest.approx(1.760955, abs=1e-5)  # initlab.theory, σ_b² = 0.05
    cells = {(round(c["sigma_w2"], 3), c["depth"]): c for c in r.numbers["cells"]}
    assert math.isinf(cells[(round(crit, 3), 30)]["xi_c"])
    assert cells[(1.0, 30)]["predicted"] is False  # 6ξ_c(1.0) ≈ 21.8 < 30
    # the figure's curve is 6ξ_c of initlab.theory (Schoenholz et al. 2017, eq. 9)
    from initlab.theory import MeanField

    w, y = r.figure["six_xi_c"][0]
    assert y == pytest.approx(6 * MeanField("tanh", w, 0.05).xi_c)


def test_pennington_orthogonal_matches_eq17():
    r = tiny("pennington2017")
    for d in ("4", "16"):  # 30 %: finite width 64 adds O(L/N) (measured ≤ 12 % here)
        meas = r.numbers["lambda_variance"]["orthogonal"][d][0]
        theory = r.numbers["lambda_variance_theory"]["orthogonal"][d]
        assert meas == pytest.approx(theory, rel=0.3)


# --------------------------------------------------------------- verdicts that flip ------
def test_he2015_flips_when_he_and_xavier_are_swapped():
    r = run_reproduction("he2015", quick=True, **{**TINY["he2015"], "seeds": 1,
                                                  "baseline": "he", "proposed": "xavier"})
    assert r.verdict is Verdict.NOT_SUPPORTED, r.reason
    assert "xavier does not converge" in r.reason and "he does not stall" in r.reason


def test_zhang2019_flips_when_he_is_the_proposal():
    r = run_reproduction("zhang2019", quick=True, **{**TINY["zhang2019"], "steps": 60,
                                                     "baseline": "fixup", "proposed": ("he",)})
    assert r.verdict is Verdict.NOT_SUPPORTED, r.reason


def test_glorot_saturation_check_fails_for_tanh():
    r = run_reproduction("glorot2010", quick=True, **{**TINY["glorot2010"], "seeds": 1,
                                                      "fig2_activation": "tanh"})
    assert r.verdict is Verdict.PARTLY, r.reason
    assert [k for k, v in r.numbers["checks"].items() if not v] == [
        "tanh: top layer saturates, first layer stays"]


def test_verdicts_table_and_json_of_all(tmp_path):
    results = [tiny("saxe2014"), tiny("pennington2017")]
    t = verdicts_table(results)
    assert t.row_count == 2
    json.dumps([r.to_dict() for r in results], allow_nan=False)
