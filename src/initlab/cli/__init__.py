"""The ``initlab`` command line: typer + rich.

Each command lives in its own module under ``initlab.cli`` and exposes ``register(app)``; this
module builds the app from :data:`COMMAND_MODULES`. Exit codes: 0 ok, 1 the diagnosis found
problems (``--strict``), 2 bad usage or input (one red line, never a traceback) or interrupted
(Ctrl-C: one line saying what, if anything, was written).
"""

from __future__ import annotations

import importlib
import re
from typing import Any, NoReturn

import typer

from initlab.cli.common import fail, interrupted
from initlab.errors import InitError

# One entry per module in initlab.cli that defines `register(app: typer.Typer) -> None`.
COMMAND_MODULES: tuple[str, ...] = (
    "demo",
    "doctor",
    "model",
    "theory",
    "scales",
    "compare",
    "claims",
    "check",
    "explore",
    "coordcheck",
    "reproduce",
    "sweep",
)

app = typer.Typer(
    name="initlab",
    help=(
        "initlab: initialize neural networks well and see how signal and gradient flow at "
        "step 0.\n\nStart with:  initlab demo"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)



def _version(value: bool) -> None:
    if value:
        from initlab import __version__

        typer.echo(f"initlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """initlab: initialize neural networks well and see how signal and gradient flow at step 0.

    Start with:  initlab demo
    """


for _name in COMMAND_MODULES:
    importlib.import_module(f"initlab.cli.{_name}").register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``initlab`` script: library errors become one red line and exit 2;
    so does Ctrl-C (``interrupted: nothing was written``, or the files already completed)."""
    from initlab.files import write_mark

    mark = write_mark()
    try:
        # not standalone: typer hands back its usage errors and exit codes instead of printing
        # a boxed error and exiting, so a usage mistake is the same one red line as the others
        code = app(args=argv, standalone_mode=False)
    except InitError as e:
        fail(str(e))
    except KeyboardInterrupt:
        interrupted(mark)
    except Exception as e:
        if _is_usage_error(e):
            _usage_error(e)
        if any(c.__name__ == "Abort" for c in type(e).__mro__):  # Ctrl-D / Ctrl-C at a prompt
            interrupted(mark)
        raise
    if code == 130:  # typer turns a Ctrl-C inside a command into exit code 130
        interrupted(mark)
    raise SystemExit(code if isinstance(code, int) else 0)  # as click's standalone mode does


def _is_usage_error(e: BaseException) -> bool:
    """A click/typer ``ClickException`` (usage errors: unknown option, missing argument, bad
    value...). Matched by name: typer vendors its own copy of click."""
    return any(c.__name__ == "ClickException" for c in type(e).__mro__)


def _usage_error(e: Any) -> NoReturn:
    """One red line: click's message, the usage when an argument is missing, and where the
    help is (``initlab doctor --help``); exit 2 (click's code for usage errors)."""
    ctx = getattr(e, "ctx", None)
    if type(e).__name__ == "NoArgsIsHelpError" and ctx is not None:
        typer.echo(ctx.get_help())  # `initlab` alone: the help, as before
        raise SystemExit(2)
    msg = e.format_message()
    where = ""
    if ctx is not None:
        path = ctx.command_path
        if type(e).__name__ == "MissingParameter":
            usage = ctx.get_usage().replace("Usage:", "").strip()
            usage = re.sub(r"\{(\w+)\}", lambda m: m.group(1).upper(), usage)  # {target}
            where = f" (usage: {usage}; {path} --help)"
        else:
            where = f" ({path} --help)"
    fail(f"{msg}{where}", int(getattr(e, "exit_code", 2) or 2))


__all__ = ["COMMAND_MODULES", "app", "main"]
