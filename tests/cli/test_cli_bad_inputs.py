"""Every command against every class of bad input: a bad value, a bad output path, a run too
large for this machine, an interrupt in the middle of the work.

Each must exit 2 (an interrupt too), print exactly one line on stderr and no traceback, and leave
no file behind — the output paths are checked before the work and written atomically; an
interrupted command says ``interrupted: nothing was written``, and only that when it is true.
The commands run in-process through the ``initlab`` entry point (the same code path as the
script), in a fresh temporary directory holding a file ``f`` and an empty directory ``d`` to aim
at.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import torch

from initlab import entry

MLP = "initlab.lab.zoo:deep_mlp"
TINY_DEMO = ["demo", "--depth", "2", "--width", "8", "--batch", "4", "--no-progress"]

BAD_VALUE = [
    ["demo", "--device", "gpu", "--depth", "2"],
    ["doctor", MLP, "-s", "4,32", "--device", "gpu"],
    ["doctor", MLP, "-s", "4,32", "--init", "nope"],
    ["doctor", MLP, "-s", "4,32", "--rule", "no-equals-sign"],
    ["doctor", MLP, "-s", "4,32", "--init", "zeros", "--rule", "net.0.weight=he"],
    ["plan", MLP, "-s", "4,32", "--rule", "net.0.*=nope"],
    ["plan", MLP, "-s", "4,32", "--policy", "nope"],
    ["init", MLP, "-s", "4,32", "--out", "w.pt", "--device", "gpu"],
    ["init", MLP, "-s", "4,32", "--out", "w.pt", "--rule", "x=normal(sd=1)"],
    ["scale", "10", "10", "--activation", "elu", "--param", "alpha=abc"],
    ["gain", "elu", "--param", "alpha=abc"],
    ["gain", "tanh", "--sigma-b2", "-1"],
    ["theory", "elu", "--param", "alpha=abc"],
    ["phase", "elu", "--param", "alpha=abc", "--points", "3"],
    ["compare", "--activation", "swiglu"],
    ["compare", "--inits", "nope"],
    ["claims", "nope"],
    ["reproduce", "nope", "--quick"],
    ["check", "nope:fn"],
    ["coordcheck", "initlab.lab.coordcheck:mlp", "--widths", "a,b"],
    ["explore", "--port", "-5", "--no-open", "--no-warm"],
]
#: every command that runs a model takes --device; a bad one is refused before any work
DEVICE_COMMANDS = [
    ["compare", "--epochs", "1"],
    ["coordcheck", "initlab.lab.coordcheck:mlp"],
    ["claims", "symmetry", "--quick"],
    ["reproduce", "he2015", "--quick"],
    ["sweep", "--grid", "depth=1", "--store", "s.sqlite"],
    ["explore", "--no-open", "--no-warm"],
]
BAD_VALUE += [[*c, "--device", "gpu"] for c in DEVICE_COMMANDS]
if not torch.cuda.is_available():
    BAD_VALUE += [["doctor", MLP, "-s", "4,32", "--device", "cuda"],
                  ["demo", "--device", "cuda", "--depth", "2"]]
    BAD_VALUE += [[*c, "--device", "cuda"] for c in DEVICE_COMMANDS]

BAD_PATH = [
    *[[*TINY_DEMO, "--out", p] for p in ("f/x.png", "x.txt", "d", "noext")],
    *[["doctor", MLP, "-s", "4,32", "--plot", p] for p in ("f/x.png", "x.txt", "d")],
    *[["doctor", MLP, "-s", "4,32", "--html", p] for p in ("f/r.html", "r.txt", "d")],
    *[["init", MLP, "-s", "4,32", "--out", p] for p in ("f/w.pt", "w.txt", "d", "w")],
    *[["phase", "tanh", "--points", "3", "--out", p] for p in ("f/x.png", "x.txt", "d")],
    *[["compare", "--epochs", "1", "--out", p] for p in ("f/x.png", "x.txt", "d")],
    *[["compare", "--epochs", "1", "--no-plot", "--html", p] for p in ("r.txt", "d")],
    ["claims", "symmetry", "--quick", "--out", "f/sub"],
    ["claims", "symmetry", "--quick", "--no-plot", "--html", "r.txt"],
    ["coordcheck", "initlab.lab.coordcheck:mlp", "--out", "x.txt"],
    ["coordcheck", "initlab.lab.coordcheck:mlp", "--no-plot", "--html", "d"],
    ["reproduce", "he2015", "--quick", "--out", "f/x"],
]

TOO_LARGE = [
    ["demo", "--depth", "100000", "--no-plot"],
    ["demo", "--width", "100000", "--no-plot"],
    ["demo", "--batch", "100000000", "--no-plot"],
    ["compare", "--depth", "100000000", "--no-plot"],
    ["compare", "--width", "100000", "--no-plot"],
    ["compare", "--model", "cnn", "--batch-size", "100000000", "--width", "512", "--no-plot"],
    ["doctor", MLP, "-s", "1000000000,32"],
]


def _listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def run_cli(argv: list[str], tmp_path: Path, capsys: Any, monkeypatch: Any) -> tuple[int, str, str]:
    """Run ``initlab ARGV`` in-process in ``tmp_path``; (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f").write_text("a file in the way")
    (tmp_path / "d").mkdir(exist_ok=True)
    before = _listing(tmp_path)
    with pytest.raises(SystemExit) as e:
        entry.main(argv)
    out, err = capsys.readouterr()
    assert _listing(tmp_path) == before, f"{argv} left {_listing(tmp_path) - before}"
    code = e.value.code if isinstance(e.value.code, int) else 1
    return code, out, err


def _one_line(err: str, argv: list[str]) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, f"{argv}: stderr has {len(lines)} lines:\n{err}"
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [pytest.param(a, id="value:" + " ".join(a[:4] + a[-2:])) for a in BAD_VALUE]
    + [pytest.param(a, id="path:" + " ".join(a[:1] + a[-2:])) for a in BAD_PATH]
    + [pytest.param(a, id="large:" + " ".join(a[:4])) for a in TOO_LARGE],
)
def test_bad_input_is_one_line_exit_2_nothing_written(argv, tmp_path, capsys, monkeypatch):
    code, out, err = run_cli(argv, tmp_path, capsys, monkeypatch)
    assert code == 2, (argv, out, err)
    _one_line(err, argv)
    assert "Traceback" not in out
    if argv in TOO_LARGE:
        assert "B of memory" in err  # the estimate is printed with its number


def _interrupt(*args: Any, **kwargs: Any) -> None:
    raise KeyboardInterrupt


INTERRUPTED = {
    # the demo is interrupted after its first figure is drawn: none of the three may be left
    "demo while saving figures": (
        [*TINY_DEMO, "--out", "demo.png"], "initlab.report.demo.demo_histograms"),
    "init while writing .pt": (["init", MLP, "-s", "4,32", "--out", "w.pt"], "torch.save"),
    "init while writing .safetensors": (
        ["init", MLP, "-s", "4,32", "--out", "w.safetensors"], "safetensors.torch.save_model"),
    "doctor while drawing": (
        ["doctor", MLP, "-s", "4,32", "--plot", "x.png"],
        "initlab.report.doctor_figures.diagnosis_figure"),
    "phase while solving": (
        ["phase", "tanh", "--points", "3", "--out", "p.png"], "initlab.theory.phase_diagram"),
    "compare in its first run": (
        ["compare", "--inits", "zeros,he", "--epochs", "1", "--depth", "1", "--width", "8",
         "--n-train", "64", "--n-test", "32", "--out", "c.png", "--no-progress"],
        "initlab.lab.compare.train"),
    "claims while measuring": (
        ["claims", "symmetry", "--quick", "--out", "cl"], "initlab.lab.claims.symmetry.run"),
    "reproduce while training": (
        ["reproduce", "he2015", "--quick", "--out", "rp"], "initlab.lab.reproduce.he2015.run"),
    "coordcheck while measuring": (
        ["coordcheck", "initlab.lab.coordcheck:mlp", "--out", "cc.png"],
        "initlab.lab.coordcheck.coord_check"),
    "sweep before its first run": (
        ["sweep", "--grid", "init=he depth=1 width=4 epochs=1 n_train=32 n_test=16",
         "--store", "s.sqlite", "--json"], "initlab.lab.sweep._run_indexed"),
}


@pytest.mark.parametrize("case", list(INTERRUPTED))
def test_interrupt_is_one_line_exit_2_no_partial_files(case, tmp_path, capsys, monkeypatch):
    argv, target = INTERRUPTED[case]
    if case.startswith("demo"):
        import initlab.report.demo as rd

        real = rd.demo_histograms
        calls = []

        def interrupted_after_the_first_figure(*a: Any, **k: Any) -> Any:
            calls.append(1)
            if len(calls) == 1:  # the depth figure is drawn, the first histogram grid is not
                raise KeyboardInterrupt
            return real(*a, **k)

        monkeypatch.setattr(rd, "demo_histograms", interrupted_after_the_first_figure)
    else:
        monkeypatch.setattr(target, _interrupt)
    if case.startswith("sweep"):
        # the store is created before the first run; it is the sweep's resumable output
        monkeypatch.chdir(tmp_path)
        with pytest.raises(SystemExit) as e:
            entry.main(argv)
        err = capsys.readouterr().err
        assert e.value.code == 2
        _one_line(err, argv)
        assert "interrupted: 0 of 1 runs are in the store s.sqlite" in err
        return
    code, _, err = run_cli(argv, tmp_path, capsys, monkeypatch)
    assert code == 2
    _one_line(err, argv)
    assert err.strip() == "interrupted: nothing was written", err


def test_an_interrupt_after_a_file_was_written_names_it(tmp_path, capsys, monkeypatch):
    # compare keeps its finished runs on Ctrl-C and draws them: the one line says so, truthfully
    import initlab.lab.compare as lc

    real, calls = lc.train, []

    def second_run_interrupted(*a: Any, **k: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(lc, "train", second_run_interrupted)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        entry.main(["compare", "--inits", "zeros,he", "--epochs", "1", "--depth", "1",
                    "--width", "8", "--n-train", "64", "--n-test", "32", "--out", "c.png",
                    "--no-progress"])
    err = capsys.readouterr().err
    assert e.value.code == 2
    _one_line(err, [])
    assert err.strip() == ("interrupted: only c.png had been written (1 finished run(s) kept "
                           "and shown above)"), err
    assert (tmp_path / "c.png").stat().st_size > 0


def test_output_files_get_the_umask_permissions(tmp_path, capsys, monkeypatch):
    old = os.umask(0o022)
    try:
        monkeypatch.chdir(tmp_path)
        with pytest.raises(SystemExit) as e:
            entry.main(["init", MLP, "-s", "4,32", "--out", "w.pt", "--json"])
        assert e.value.code in (0, None)
    finally:
        os.umask(old)
    assert (tmp_path / "w.pt").stat().st_mode & 0o777 == 0o644
    state = torch.load(tmp_path / "w.pt")  # a real torch.save file, not safetensors bytes
    assert "net.0.weight" in state


def test_doctor_seed_gives_the_same_numbers_twice(tmp_path, capsys, monkeypatch):
    # deep_mlp draws its weights at construction (torch's default init): --seed must seed that
    outs = []
    for _ in range(2):
        monkeypatch.chdir(tmp_path)
        with pytest.raises(SystemExit) as e:
            entry.main(["doctor", MLP, "-s", "8,32", "--seed", "3", "--json"])
        assert e.value.code in (0, None)
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1]


def test_rule_overrides_the_policy_in_plan(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        entry.main(["plan", MLP, "-s", "4,32", "--rule", "net.0.weight=orthogonal(gain=2)",
                    "--json"])
    import json

    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert rows["net.0.weight"]["scheme"]["kind"] == "orthogonal"
    assert rows["net.2.weight"]["scheme"]["kind"] == "he"


@pytest.mark.parametrize("batch", [1, 2, 3, 4])
def test_a_standardized_input_is_not_flagged_at_tiny_batches(batch):
    # the doctor's own N(0, 1) input, 10 seeds: a per-channel mean over ≤ 4 values is noise
    # (std 1/√batch), never evidence that the input is not standardized
    import initlab
    from initlab.lab.zoo import deep_mlp

    torch.manual_seed(0)
    model = deep_mlp(3, 16, 32)
    for seed in range(10):
        x = torch.randn(batch, 32, generator=torch.Generator().manual_seed(seed))
        dx = initlab.doctor(model, x)
        assert not [f for f in dx.findings if f.kind == "input"], (batch, seed)


def test_an_offset_input_is_still_flagged_at_a_tiny_batch():
    import initlab
    from initlab.lab.zoo import deep_mlp

    x = torch.randn(2, 32, generator=torch.Generator().manual_seed(0)) + 10.0
    dx = initlab.doctor(deep_mlp(3, 16, 32), x)
    assert [f for f in dx.findings if f.kind == "input"]
