"""`initlab explore` refuses bad usage with one red line and exit code 2, before listening."""

from __future__ import annotations

from typer.testing import CliRunner

from initlab.cli import app


def test_bad_usage_exits_2_with_one_line():
    runner = CliRunner()
    for args, needle in (
        (["explore", "no_such_module_xyz:factory", "--no-open"], "cannot import"),
        (["explore", "initlab.lab.zoo:deep_mlp", "--input-shape", "4,x", "--no-open"],
         "--input-shape"),
        (["explore", "--port", "70000", "--no-open"], "--port"),
        (["explore", "--check", "initlab.lab.check_examples:EXAMPLES", "--no-open"], "--check"),
    ):
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
        assert needle in r.output and "Traceback" not in r.output


def test_model_without_example_input_needs_input_shape():
    r = CliRunner().invoke(app, ["explore", "torch.nn:Identity", "--no-open"])
    assert r.exit_code == 2 and "--input-shape" in r.output
