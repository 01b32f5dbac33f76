"""What a newcomer meets in the first hour (issue 15): the examples in every command's --help
run as written, long commands show progress on a terminal and nothing on a pipe, error lines
print brackets as written, results print as one line at a REPL."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from rich.console import Console

from initlab import entry
from initlab.cli import app
from initlab.cli.common import load_object


def _help_texts() -> dict[str, str]:
    """Every command's docstring (the --help text), sub-commands included."""
    import typer.main

    root = typer.main.get_command(app)
    out = {}
    for name, cmd in root.commands.items():  # type: ignore[attr-defined]
        out[name] = cmd.help or ""
        for sub, subcmd in getattr(cmd, "commands", {}).items():
            out[f"{name} {sub}"] = subcmd.help or ""
    return out


def test_every_help_example_names_an_importable_model():
    # `initlab doctor --help` once showed torchvision.models:resnet18 — not installed here
    targets = []
    for name, text in _help_texts().items():
        for line in text.splitlines():
            if line.strip().startswith(("Example:", "Fix it:")):
                targets += [(name, t) for t in re.findall(r"\b[\w.]+:[A-Za-z_]\w*\b", line)]
    assert len(targets) >= 5, targets
    for name, target in targets:
        try:
            load_object(target)
        except Exception as e:  # InitError: the example cannot run here
            raise AssertionError(f"`initlab {name} --help`: example {target}: {e}") from None


def _tty(monkeypatch: Any) -> io.StringIO:
    import initlab.cli.common as common

    buf = io.StringIO()
    monkeypatch.setattr(common, "console_err",
                        Console(file=buf, force_terminal=True, width=100))
    return buf


COORD = ["coordcheck", "initlab.lab.coordcheck:mlp", "--widths", "8,16", "--seeds", "1",
         "--steps", "1", "--policy", "torch", "--no-plot"]


def test_coordcheck_shows_progress_on_a_terminal(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    buf = _tty(monkeypatch)
    with pytest.raises(SystemExit) as e:
        entry.main(COORD)
    assert e.value.code == 0
    drawn = buf.getvalue()
    assert "coordcheck" in drawn and "2/2" in drawn, drawn[-500:]


def test_no_progress_and_no_blank_line_on_a_pipe(tmp_path, capsys, monkeypatch):
    # stderr captured (not a terminal): a rich bar would leave an empty line behind
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        entry.main(COORD)
    assert e.value.code == 0
    assert capsys.readouterr().err == ""


def test_error_lines_print_brackets_as_written(capsys):
    from initlab.cli.common import fail

    with pytest.raises(SystemExit):
        fail("bad value [default] in [red]x[/red]")
    assert capsys.readouterr().err.strip() == "error: bad value [default] in [red]x[/red]"


def test_comparison_and_run_reprs_are_one_line():
    from initlab.lab.compare import compare_inits

    r = compare_inits("zeros,he", depth=1, width=8, epochs=1, n_train=64, n_test=32,
                      diagnose=False)
    for text in (repr(r), repr(r.runs[0])):
        assert "\n" not in text and len(text) < 200, text
    assert repr(r).startswith("ComparisonResult(mlp (relu), depth 1, width 8")
    assert "2 of 2 runs" in repr(r)


def test_compare_counts_the_gradient_probe_in_its_memory_estimate(tmp_path, capsys, monkeypatch):
    # --depth 100000 at batch 64 fits in 16 GiB, but the step-0 gradient probe runs 256
    # examples through every layer (~33 GB): refused up front, not in the allocator minutes later
    import initlab.cli.common as common

    monkeypatch.setattr(common, "available_memory", lambda: 16 * 2**30)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        entry.main(["compare", "--depth", "100000", "--no-plot"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "needs about 32.8 GB of memory" in err, err
    assert list(tmp_path.iterdir()) == []
