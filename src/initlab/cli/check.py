"""``initlab check``: test a learner's own initializer against initlab's reference.

``initlab check my_module:my_xavier --scheme xavier_normal`` imports the function (the loader
shared with ``doctor``), runs :func:`initlab.lab.check.check_initializer` and prints one row
per shape and the verdict with the likely mistake. Exit codes: 0 correct, 1 wrong (the check is
a test: a wrong implementation is its finding), 2 bad usage (cannot import, unknown scheme, the
function raising or returning the wrong number of values: one red line).
"""

from __future__ import annotations

import typer

from initlab.cli.common import console, fail, print_json
from initlab.errors import InitError


def check_cmd(
    target: str = typer.Argument(
        ..., help="The function to check: pkg.module:function or path/to/file.py:function."
    ),
    scheme: str = typer.Option(
        "xavier_normal",
        "--scheme",
        help="Reference: xavier_normal, xavier_uniform, kaiming_normal, kaiming_uniform, "
        "kaiming_normal_fan_out, lecun_normal, lecun_uniform (he_*/glorot_* aliases; Kaiming "
        "for ReLU).",
    ),
    call: str = typer.Option(
        "auto",
        "--call",
        help="How to call it: tensor (fills a torch tensor in place, torch style), shape "
        "(returns an array of that shape), fans (fn(fan_in, fan_out) returns a matrix), auto "
        "(from its signature).",
    ),
    seed: int = typer.Option(0, help="Seed of the global RNGs before each call."),
    json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check your own initializer: variance, mean and distribution on many shapes, and the
    likely mistake when it is wrong.

    Each shape (Linear square/tall/wide, Conv1d, Conv2d) is drawn once; the variance is tested
    against the formula with a tolerance from the sample size, the mean against 0, the law with
    a Kolmogorov–Smirnov test. Diagnoses fan_out used for fan_in, the kernel size forgotten, the
    std used as the variance, the uniform bound off by √3, the ReLU gain forgotten.

    Example:  initlab check initlab.lab.check_examples:xavier_normal_std_as_variance
    Your own: initlab check my_inits.py:my_xavier --scheme xavier_uniform
    """
    from initlab.cli.common import load_object
    from initlab.lab.check import check_initializer
    from initlab.report.check_table import check_renderable

    try:
        fn = load_object(target)
        result = check_initializer(fn, scheme, call=call, seed=seed, name=target)
    except InitError as e:
        fail(str(e))
    if json:
        print_json(result.to_dict())
    else:
        console.print(check_renderable(result))
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("check")(check_cmd)


__all__ = ["check_cmd", "register"]
