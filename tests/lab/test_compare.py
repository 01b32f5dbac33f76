"""The training comparison: the training loop and its record, compare_inits, the figure."""

import json
import math

import pytest
import torch

from initlab.errors import InitError
from initlab.lab.compare import compare_inits, layer_grad_variance, split_specs
from initlab.lab.data import Split, load_dataset, load_digits_split
from initlab.lab.starts import apply_start
from initlab.lab.train import RunRecord, steps_to_threshold, train
from initlab.lab.zoo import build_model, deep_mlp

TINY = {"depth": 3, "width": 32, "epochs": 3}


@pytest.fixture(scope="module")
def digits() -> Split:
    return load_digits_split(seed=0)


@pytest.fixture(scope="module")
def tiny(digits):
    return compare_inits(("zeros", "normal", "xavier", "he"), data=digits, seeds=2, **TINY)


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
    model = deep_mlp(3, 16, 64, 10, "relu")
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    train(model, digits, epochs=1, lr=0.05, seed=0)
    hidden = [m.weight for m in model.net if isinstance(m, torch.nn.Linear)][:-1]
    assert all(float(w.detach().abs().max()) == 0.0 for w in hidden)  # no symmetry breaking at all


def test_runs_are_deterministic_for_a_seed(digits, tiny):
    again = compare_inits("zeros,normal,xavier,he", data=digits, seeds=2, **TINY)
    # to_dict: non-finite losses of the diverged run become None (NaN != NaN in ==)
    def numbers(r: RunRecord) -> dict:
        return {k: v for k, v in r.to_dict().items() if k != "seconds"}  # wall time varies

    assert [numbers(r) for r in again.runs] == [numbers(r) for r in tiny.runs]
    assert again.run("he") == tiny.run("he")  # the frozen RunRecords themselves
    assert tiny.run("he", seed=1).train_loss != tiny.run("he", seed=0).train_loss


def test_divergence_is_recorded_not_raised(digits):
    model = deep_mlp(3, 32, 64, 10, "relu")
    apply_start(model, "normal", seed=0)
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
    assert d["config"]["start"] == "xavier" and d["config"]["optimizer"] == "sgd"
    assert d["seed"] == 0 and len(d["test_accuracy"]) == TINY["epochs"]
    assert set(d) >= {"config", "seed", "train_loss", "test_accuracy", "final_train_loss",
                      "final_test_accuracy", "diverged", "step_loss"}
    assert json.loads(tiny.to_json())["runs"][0]["start"] == "zeros"
    assert RunRecord.from_dict(json.loads(r.to_json())) == r


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
    ({"inits": ("zeros", "nosuch")}, "unknown start 'nosuch'"),
    ({"inits": ()}, "no starts given"),
    ({"inits": ("he", "he")}, "repeated"),
    ({"seeds": 0}, "seeds must be"),
    ({"seeds": [1, 1]}, "repeats"),
    ({"model": "vit"}, "unknown model 'vit'"),
    ({"model": "cnn", "dataset": "spirals", "data": None}, "needs images"),
    ({"depth": 0}, "depth must be an int"),
    ({"width": -3}, "width must be an int"),
    ({"epochs": 0}, "epochs must be an int"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"activation": "nosuchact"}, "nosuchact"),
])
def test_compare_bad_args(digits, kw, words):
    with pytest.raises(InitError, match=words):
        compare_inits(**{"data": digits, **kw})


def test_unknown_start_lookup(tiny):
    with pytest.raises(InitError, match="no runs for start"):
        tiny.run("lsuv")


def test_summary_spread_steps_and_gradient_variance(tiny):
    he, zeros, xavier = tiny.summary("he"), tiny.summary("zeros"), tiny.summary("xavier")
    assert he.seeds == (0, 1) and he.accuracy_std > 0  # two seeds, two different runs
    accs = [r.final_test_accuracy for r in tiny.runs_of("he")]
    assert he.accuracy_mean == pytest.approx(sum(accs) / 2)
    # the doctor's step-0 verdicts: zeros never breaks symmetry, N(0, 1) explodes
    assert zeros.verdict0 == "symmetric" and tiny.summary("normal").verdict0 == "exploding"
    assert he.verdict0 == "healthy"
    # all-zero weights: every weight gradient except the head's is exactly 0 at step 0
    assert all(v == 0 for v in zeros.grad_var0[:-1])
    assert len(he.grad_var0) == TINY["depth"] + 1 and all(v > 0 for v in he.grad_var0)
    # He for ReLU (He et al. 2015): Var[W] twice Xavier's (2/n vs 2/(n_in+n_out)), so the
    # backward signal keeps its scale; each weight gradient is larger than under Xavier
    assert all(h > x for h, x in zip(he.grad_var0, xavier.grad_var0, strict=True))
    assert he.steps_to_threshold[0] == tiny.run("he").steps_to(tiny.threshold)
    assert zeros.steps_to_threshold == (None, None)


def test_layer_grad_variance_restores_grads_and_matches_autograd():
    m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    _, var = layer_grad_variance(m, x, y)
    assert all(p.grad is None for p in m.parameters())
    torch.nn.functional.cross_entropy(m(x), y).backward()
    assert var[0] == pytest.approx(float(m[0].weight.grad.double().var()), rel=1e-6)


def test_steps_to_threshold():
    assert steps_to_threshold([3.0, 1.0, 0.4, 0.2], 0.5, window=2) == 4
    assert steps_to_threshold([3.0, float("nan"), 0.1], 0.5, window=1) is None
    with pytest.raises(InitError, match="window"):
        steps_to_threshold([1.0], 0.5, window=0)


def test_split_specs_keeps_options_together():
    assert split_specs("zeros, critical(sigma_b2=0.05, q_star=1),he") == [
        "zeros", "critical(sigma_b2=0.05, q_star=1)", "he"]


@pytest.mark.parametrize("model, dataset", [("cnn", "digits"), ("resnet_nobn", "digits"),
                                            ("lstm", "mnist1d"), ("mlp", "teacher"),
                                            ("gpt", "text")])
def test_other_models_and_tasks_train(model, dataset):
    """Every zoo model of the lab runs through the same loop at a tiny size."""
    r = compare_inits(("he",), dataset=dataset, model=model, depth=1,
                      width=16 if model == "gpt" else 8, epochs=1, n_train=256,
                      n_test=13 if model == "gpt" else 64, batch_size=64, lr=0.01,
                      diagnose=False)
    run = r.run("he")
    assert run.steps == 4 and not run.diverged and len(run.test_accuracy) == 1
    if dataset == "teacher":  # regression: the table's accuracy column is R²
        assert r.data["task"] == "regression" and run.final_test_accuracy <= 1


def test_ctrl_c_keeps_the_finished_runs(digits):
    seen = []

    def on_step(start, seed, k, loss):
        if start == "he" and k == 3:
            raise KeyboardInterrupt
        seen.append(start)

    r = compare_inits(("zeros", "he"), data=digits, on_step=on_step, **TINY)
    assert r.interrupted and [x.config["start"] for x in r.runs] == ["zeros"]
    assert [s.start for s in r.summaries] == ["zeros"]


def test_build_model_bad_inputs():
    with pytest.raises(InitError, match="unknown model"):
        build_model("transformer", (4,), 2)
    with pytest.raises(InitError, match="needs images"):
        build_model("resnet", (40,), 2)
    with pytest.raises(InitError, match="depth must be"):
        build_model("mlp", (4,), 2, depth=0)
    with pytest.raises(InitError, match="reads token sequences"):
        build_model("gpt", (1, 8, 8), 10)


def test_mnist_real_digits_tiny():
    d = load_dataset("mnist", n_train=512, n_test=200)
    r = compare_inits(("zeros", "he"), data=d, depth=2, width=32, epochs=2, lr=0.05,
                      diagnose=False)
    # real MNIST digits: He learns (≈0.8 here), zeros stays near chance (one class's share)
    assert r.run("he").final_test_accuracy > 0.6 > 0.2 > r.run("zeros").final_test_accuracy


# ------------------------------------------------------------------------------ figure ------
def test_figure_and_table(tiny, tmp_path):
    from rich.console import Console

    from initlab.report.compare_figures import compare_table, plot_comparison, write_compare_html

    path = plot_comparison(tiny, tmp_path / "sub" / "cmp.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    page = write_compare_html(tiny, tmp_path / "r.html").read_text()
    assert "data:image/png;base64," in page and "symmetric" in page and "<script" not in page
    con = Console(record=True, width=120)
    con.print(compare_table(tiny))
    text = con.export_text()
    for name in ("zeros", "normal", "xavier", "he"):
        assert name in text
