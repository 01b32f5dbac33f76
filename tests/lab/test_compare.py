"""The training comparison: data, the training loop and its record, compare_inits, the figure."""

import json
import math

import pytest
import torch

from initlab.errors import InitError
from initlab.lab.compare import COMPARE_SCHEMES, build_mlp, compare_inits
from initlab.lab.data import Split, load_digits_split
from initlab.lab.train import RunRecord, train

TINY = {"depth": 3, "width": 32, "epochs": 3}


@pytest.fixture(scope="module")
def digits() -> Split:
    return load_digits_split(seed=0)


@pytest.fixture(scope="module")
def tiny(digits):
    return compare_inits(("zeros", "normal", "xavier", "he"), data=digits, **TINY)


# ------------------------------------------------------------------------------- data -------
def test_digits_split_shapes_and_standardization(digits):
    assert digits.x_train.shape[1] == 64 and digits.num_classes == 10
    assert digits.x_train.shape[0] + digits.x_test.shape[0] == 1797
    assert digits.x_test.shape[0] == round(1797 * 0.25)
    assert digits.x_train.dtype == torch.float32 and digits.y_train.dtype == torch.int64
    # standardized by the training split: per-pixel mean 0, std 1 (or 0 for constant pixels)
    assert digits.x_train.mean(0).abs().max() < 1e-5
    sd = digits.x_train.std(0)
    assert bool(((sd - 1).abs() < 1e-4).logical_or(sd < 1e-6).all())


def test_digits_split_is_deterministic_and_seeded():
    a, b, c = load_digits_split(3), load_digits_split(3), load_digits_split(4)
    assert torch.equal(a.y_test, b.y_test) and torch.equal(a.x_train, b.x_train)
    assert not torch.equal(a.y_test, c.y_test)


@pytest.mark.parametrize("kw, words", [
    ({"test_fraction": 0.0}, "test_fraction"),
    ({"test_fraction": 1.0}, "test_fraction"),
    ({"test_fraction": "a"}, "test_fraction"),
    ({"test_fraction": 1e-6}, "empty split"),
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
])
def test_digits_split_bad_args(kw, words):
    with pytest.raises(InitError, match=words):
        load_digits_split(**kw)


# ------------------------------------------------------------------------------ train -------
def test_zeros_stays_at_chance_and_he_learns(tiny):
    he, zeros = tiny.run("he"), tiny.run("zeros")
    # He learns the digits in 3 epochs; all-zero weights never break symmetry: every hidden
    # unit computes the same thing (0) and gets the same gradient (0, as all downstream weights
    # are 0), so only the output bias learns and the net predicts the class prior. Its accuracy
    # is one class's share of the 449 test digits: 10 % ± a few % (the classes are balanced).
    assert he.final_test_accuracy > 0.7  # ~0.82 here; 0.7 leaves room for BLAS differences
    assert abs(zeros.final_test_accuracy - 0.10) < 0.04
    assert he.final_test_accuracy > zeros.final_test_accuracy + 0.5
    assert not he.diverged and not zeros.diverged
    assert len(he.train_loss) == len(he.test_accuracy) == TINY["epochs"]
    assert he.train_loss[-1] < he.train_loss[0]
    # zeros: the loss stays at log(10) (uniform prediction) up to the prior's small gain
    assert abs(zeros.final_train_loss - math.log(10)) < 0.05


def test_zeros_hidden_weights_never_move(digits):
    model = build_mlp(64, 10, 3, 16, "relu")
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    train(model, digits, epochs=1, lr=0.05, seed=0)
    hidden = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    assert all(float(w.detach().abs().max()) == 0.0 for w in hidden)  # no symmetry breaking at all


def test_runs_are_deterministic_for_a_seed(digits, tiny):
    again = compare_inits(("zeros", "normal", "xavier", "he"), data=digits, **TINY)
    # to_dict: non-finite losses of the diverged run become None (NaN != NaN in ==)
    assert [r.to_dict() for r in again.runs] == [r.to_dict() for r in tiny.runs]
    assert again.run("he") == tiny.run("he")  # the frozen RunRecords themselves
    other = compare_inits(("he",), data=digits, seed=1, **TINY)
    assert other.run("he").train_loss != tiny.run("he").train_loss


def test_divergence_is_recorded_not_raised(digits):
    torch.manual_seed(0)
    model = build_mlp(64, 10, 3, 32, "relu")
    g = torch.Generator().manual_seed(0)
    for m in model:
        if isinstance(m, torch.nn.Linear):
            COMPARE_SCHEMES["normal"][0](m.weight, "relu", g)
    r = train(model, digits, epochs=5, lr=10.0, seed=0)
    assert r.diverged and r.diverged_epoch == 0
    assert not math.isfinite(r.step_loss[-1]) and not math.isfinite(r.final_train_loss)
    assert len(r.train_loss) == 1  # stopped at the first non-finite loss
    d = json.loads(r.to_json())  # valid JSON: non-finite floats become null
    assert d["diverged"] is True and d["final_train_loss"] is None


def test_run_record_is_frozen_and_serializes(tiny):
    r = tiny.run("xavier")
    assert isinstance(r, RunRecord)
    with pytest.raises(AttributeError):
        r.seed = 3  # type: ignore[misc]
    d = json.loads(r.to_json())
    assert d["config"]["scheme"] == "xavier" and d["config"]["optimizer"] == "sgd"
    assert d["seed"] == 0 and len(d["test_accuracy"]) == TINY["epochs"]
    assert set(d) >= {"config", "seed", "train_loss", "test_accuracy", "final_train_loss",
                      "final_test_accuracy", "diverged", "step_loss"}
    assert json.loads(tiny.to_json())["runs"][0]["scheme"] == "zeros"


def test_adam_trains(digits):
    r = compare_inits(("he",), data=digits, optimizer="adam", lr=3e-3, **TINY).run("he")
    assert r.config["optimizer"] == "adam" and r.final_test_accuracy > 0.7


@pytest.mark.parametrize("kw, words", [
    ({"epochs": 0}, "epochs"),
    ({"lr": -1.0}, "lr"),
    ({"lr": float("nan")}, "lr"),
    ({"batch_size": 0}, "batch_size"),
    ({"optimizer": "rmsprop"}, "optimizer must be one of sgd, adam"),
    ({"seed": -2}, "seed"),
])
def test_train_bad_args(digits, kw, words):
    with pytest.raises(InitError, match=words):
        train(torch.nn.Linear(64, 10), digits, **kw)


def test_train_rejects_non_split():
    with pytest.raises(InitError, match="data must be a Split"):
        train(torch.nn.Linear(64, 10), (torch.zeros(2, 64),), epochs=1)


# ------------------------------------------------------------------------- compare_inits ----
@pytest.mark.parametrize("kw, words", [
    ({"schemes": ("zeros", "lsuv")}, "unknown scheme"),
    ({"schemes": ()}, "schemes is empty"),
    ({"schemes": ("he", "he")}, "repeats"),
    ({"depth": 0}, "depth must be an int"),
    ({"width": -3}, "width must be an int"),
    ({"epochs": 0}, "epochs must be an int"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"activation": "nosuchact"}, "nosuchact"),
])
def test_compare_bad_args(digits, kw, words):
    with pytest.raises(InitError, match=words):
        compare_inits(data=digits, **kw)


def test_unknown_scheme_lookup(tiny):
    with pytest.raises(InitError, match="no run for scheme"):
        tiny.run("lsuv")


# ------------------------------------------------------------------------------ figure ------
def test_figure_and_table(tiny, tmp_path):
    from rich.console import Console

    from initlab.report.compare_figures import compare_table, plot_comparison

    path = plot_comparison(tiny, tmp_path / "sub" / "cmp.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    con = Console(record=True, width=120)
    con.print(compare_table(tiny))
    text = con.export_text()
    for name in ("zeros", "normal", "xavier", "he"):
        assert name in text
