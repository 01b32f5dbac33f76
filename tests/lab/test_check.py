"""`initlab check` / check_initializer: a correct and the classically wrong learner
implementations (the seeds' first coding exercise), with the verdicts they must get."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from initlab.cli import app
from initlab.errors import InitError
from initlab.lab import check_examples as ex
from initlab.lab.check import MISTAKES, Z, check_initializer


@pytest.mark.parametrize(
    ("fn", "scheme"),
    [
        (ex.xavier_normal, "xavier_normal"),
        (ex.xavier_uniform, "xavier_uniform"),
        (ex.kaiming_normal_, "kaiming_normal"),  # torch style, in place
        (ex.he_init, "he_normal"),  # the seeds' fn(fan_in, fan_out) sketch
        (torch.nn.init.xavier_uniform_, "xavier_uniform"),  # torch's own is correct
    ],
)
def test_correct_implementations_pass(fn, scheme):
    r = check_initializer(fn, scheme)
    assert r.verdict == "correct", r.explanation
    assert r.mistake is None and r.ok
    assert all(c.var_ok and c.mean_ok and c.ks_ok for c in r.shapes)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_correct_passes_for_other_seeds(seed):
    # the tolerances (Z = 5 standard errors) make a false alarm ~1e-5 per check
    assert check_initializer(ex.xavier_normal, "xavier_normal", seed=seed).ok


@pytest.mark.parametrize(
    ("fn", "scheme", "mistake"),
    [
        (ex.kaiming_normal_fan_out, "kaiming_normal", "fan_out_for_fan_in"),
        (ex.xavier_normal_std_as_variance, "xavier_normal", "variance_as_std"),
        (ex.kaiming_normal_no_kernel, "kaiming_normal", "kernel_size_forgotten"),
        (ex.xavier_uniform_no_sqrt3, "xavier_uniform", "uniform_bound_no_sqrt3"),
        (ex.xavier_uniform_not_centred, "xavier_uniform", "not_centred"),
    ],
)
def test_classic_mistakes_are_diagnosed(fn, scheme, mistake):
    r = check_initializer(fn, scheme)
    assert r.verdict == "wrong"
    assert r.mistake == mistake, r.explanation
    assert not r.ok


def test_kernel_forgotten_is_right_on_linear_wrong_on_conv():
    r = check_initializer(ex.kaiming_normal_no_kernel, "kaiming_normal")
    for c in r.shapes:
        rf = math.prod(c.shape[2:]) if len(c.shape) > 2 else 1
        assert c.var_ok == (rf == 1), c.layer
        # the values correspond to fan_in / receptive field
        assert c.implied_fan == pytest.approx(c.fan_in / rf, rel=2 * c.ratio_tol)


def test_wrong_distribution_is_caught_by_ks():
    # right variance, wrong law: a uniform where xavier_normal asks for a normal
    def uniform_xavier(shape):
        return ex.xavier_uniform(shape)

    r = check_initializer(uniform_xavier, "xavier_normal")
    assert all(c.var_ok for c in r.shapes)
    assert not any(c.ks_ok for c in r.shapes)
    assert r.mistake == "wrong_distribution"


def test_unrecognized_mistake_reports_the_implied_fan():
    def weird(shape):
        return np.random.randn(*shape) * 0.37

    r = check_initializer(weird, "xavier_normal")
    assert r.mistake == "unrecognized"
    assert "n =" in r.explanation


def test_tolerance_comes_from_sample_size():
    r = check_initializer(ex.xavier_normal, "xavier_normal")
    for c in r.shapes:  # normal law: kurtosis 3 → Var[s²]/σ⁴ = 2/n
        assert c.ratio_tol == pytest.approx(Z * math.sqrt(2 / c.n))


def test_global_rng_is_restored():
    torch.manual_seed(123)
    np.random.seed(7)
    a, b = torch.rand(1), np.random.rand()
    torch.manual_seed(123)
    np.random.seed(7)
    check_initializer(ex.xavier_normal, "xavier_normal")
    assert torch.rand(1) == a and np.random.rand() == b


def test_bad_inputs_raise_initerror():
    with pytest.raises(InitError, match="unknown --scheme"):
        check_initializer(ex.xavier_normal, "xavier_magic")
    with pytest.raises(InitError, match="--call must be"):
        check_initializer(ex.xavier_normal, call="pointer")
    with pytest.raises(InitError, match="values, expected"):
        check_initializer(lambda shape: np.zeros(3), "xavier_normal")
    with pytest.raises(InitError, match="raised ZeroDivisionError"):
        check_initializer(lambda shape: 1 / 0, "xavier_normal")
    with pytest.raises(InitError, match="non-finite"):
        check_initializer(lambda t: None, "xavier_normal", call="tensor")  # never fills it
    with pytest.raises(InitError, match="callable"):
        check_initializer(3, "xavier_normal")  # type: ignore[arg-type]


def test_every_mistake_has_an_explanation():
    assert all(len(text) > 40 for text, _ in MISTAKES.values())


def test_cli_check_exit_codes_and_json():
    runner = CliRunner()
    ok = runner.invoke(app, ["check", "initlab.lab.check_examples:xavier_normal"])
    assert ok.exit_code == 0, ok.output
    assert "CORRECT" in ok.output
    bad = runner.invoke(app, ["check", "initlab.lab.check_examples:xavier_uniform_no_sqrt3",
                              "--scheme", "xavier_uniform", "--json"])
    assert bad.exit_code == 1
    data = json.loads(bad.stdout)
    assert data["mistake"] == "uniform_bound_no_sqrt3" and len(data["shapes"]) == 6
    usage = runner.invoke(app, ["check", "initlab.lab.check_examples:nothing_here"])
    assert usage.exit_code == 2
    usage = runner.invoke(app, ["check", "initlab.lab.check_examples:xavier_normal",
                                "--scheme", "nope"])
    assert usage.exit_code == 2 and "unknown --scheme" in usage.output


def test_initlabs_own_schemes_pass_their_check():
    """The reference formulas agree with initlab's own initializers (torch layout fans)."""
    import initlab

    own = {
        "xavier_normal": initlab.xavier_normal_,
        "xavier_uniform": initlab.xavier_uniform_,
        "kaiming_normal": lambda t: initlab.kaiming_normal_(t, nonlinearity="relu"),
        "kaiming_uniform": lambda t: initlab.kaiming_uniform_(t, nonlinearity="relu"),
        "kaiming_normal_fan_out": lambda t: initlab.kaiming_normal_(t, mode="fan_out"),
        "lecun_uniform": initlab.lecun_uniform_,
    }
    for scheme, fn in own.items():
        r = check_initializer(fn, scheme, call="tensor")
        assert r.ok, (scheme, r.explanation)
