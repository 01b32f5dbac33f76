"""The CLI: help, the demo command, JSON output, exit codes."""

import json
import subprocess
import sys

from typer.testing import CliRunner

from initlab.cli import app

runner = CliRunner()


def test_help_lists_commands():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    assert "demo" in r.output


def test_every_command_has_help_with_an_example():
    import typer.main

    group = typer.main.get_command(app)
    names = sorted(group.commands)
    assert "demo" in names
    for name in names:
        r = runner.invoke(app, [name, "--help"])
        assert r.exit_code == 0, name
        assert "Example" in r.output, f"`initlab {name} --help` shows no example"


def test_demo_json_and_figure(tmp_path):
    out = tmp_path / "demo.png"
    r = runner.invoke(app, ["demo", "--depth", "6", "--width", "16", "--batch", "8", "--json",
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["depth"] == 6
    assert out.exists() and out.stat().st_size > 1000


def test_demo_table(tmp_path):
    r = runner.invoke(app, ["demo", "--depth", "8", "--width", "16", "--batch", "8",
                            "--out", str(tmp_path / "d.png")])
    assert r.exit_code == 0, r.output
    assert "verdict" in r.output and "figure:" in r.output


def test_bad_option_exits_2():
    r = runner.invoke(app, ["demo", "--depth", "0"])
    assert r.exit_code == 2


def test_script_entry_point_version():
    r = subprocess.run([sys.executable, "-m", "initlab", "--version"], capture_output=True,
                       text=True, check=False)
    assert r.returncode == 0 and r.stdout.startswith("initlab ")
