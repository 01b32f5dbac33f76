"""``--device`` on every command that runs a model: ``--device cpu`` gives exactly what the
command gives without it (the default), and every command names the option in its help.

Bad device names (``gpu``, ``cuda`` on a CPU-only torch) are rows of
``tests/cli/test_cli_bad_inputs.py``'s table; the CUDA runs of the library entry points are in
``tests/lab/test_devices.py`` (skipped without a GPU).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from initlab.cli import app

runner = CliRunner()

#: every command that builds and runs a model (``plan`` traces on the meta device; ``check``
#: tests an initializer function on plain tensors; ``scale``/``gain``/``theory``/``phase``
#: compute formulas)
DEVICE_COMMANDS = ("demo", "doctor", "init", "compare", "coordcheck", "claims", "reproduce",
                   "sweep", "explore")

#: timings differ run to run; everything else must be identical
_TIMING = {"seconds", "elapsed_s", "elapsed"}


def _strip(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _strip(v) for k, v in d.items() if k not in _TIMING}
    if isinstance(d, list):
        return [_strip(v) for v in d]
    return d


def _json(argv: list[str]) -> Any:
    r = runner.invoke(app, argv)
    assert r.exit_code == 0, (argv, r.output)
    return _strip(json.loads(r.stdout))


@pytest.mark.parametrize("command", DEVICE_COMMANDS)
def test_every_model_command_takes_device(command):
    r = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "--device" in r.output, command


CASES = {
    "compare": ["compare", "--inits", "zeros,he", "--epochs", "1", "--depth", "1", "--width",
                "8", "--n-train", "64", "--n-test", "32", "--no-plot", "--no-progress",
                "--json"],
    "coordcheck": ["coordcheck", "initlab.lab.coordcheck:mlp", "--widths", "16,32", "--steps",
                   "2", "--seeds", "1", "--no-plot", "--json"],
    "claims": ["claims", "relu_variance", "--quick", "--seeds", "2", "--no-plot", "--json"],
}


@pytest.mark.parametrize("case", list(CASES))
def test_device_cpu_gives_the_same_result_as_the_default(case):
    argv = CASES[case]
    assert _json([*argv, "--device", "cpu"]) == _json(argv)


def test_reproduce_device_cpu_is_the_default(tmp_path):
    base = ["reproduce", "he2015", "--quick", "--set", "depth=3", "--set", "width=8", "--set",
            "steps=10", "--set", "seeds=1", "--no-plot", "--json"]
    a = _json([*base, "--out", str(tmp_path / "a")])
    b = _json([*base, "--out", str(tmp_path / "b"), "--device", "cpu"])
    a.pop("files"), b.pop("files")
    assert a == b


def test_sweep_device_cpu_stores_the_same_runs(tmp_path):
    from initlab.lab.sweep import load_runs

    grid = "init=he,zeros depth=1 width=4 epochs=1 n_train=32 n_test=16"
    _json(["sweep", "--grid", grid, "--store", str(tmp_path / "a.sqlite"), "--json"])
    _json(["sweep", "--grid", grid, "--store", str(tmp_path / "b.sqlite"), "--json",
           "--device", "cpu"])

    def runs(name: str) -> list[Any]:
        return sorted((_strip(r.record) for r in load_runs(tmp_path / name)),
                      key=lambda r: json.dumps(r, sort_keys=True))

    assert runs("a.sqlite") == runs("b.sqlite")
    assert "device" not in runs("b.sqlite")[0]["config"]  # the CPU is not recorded
