"""The ``initlab`` command line: typer + rich.

Each command lives in its own module under ``initlab.cli`` and exposes ``register(app)``; this
module builds the app from :data:`COMMAND_MODULES`. Exit codes: 0 ok, 1 the diagnosis found
problems (``--strict``), 2 bad usage or input (one red line, never a traceback) or interrupted
(Ctrl-C: one line saying what, if anything, was written).
"""

from __future__ import annotations

import importlib

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
        app(args=argv, standalone_mode=True)
    except InitError as e:
        fail(str(e))
    except KeyboardInterrupt:
        interrupted(mark)
    except SystemExit as e:
        # typer turns a Ctrl-C inside a command into a silent exit 130: say what happened
        if e.code == 130 and isinstance(getattr(e.__context__, "__cause__", None),
                                        KeyboardInterrupt):
            interrupted(mark)
        raise


__all__ = ["COMMAND_MODULES", "app", "main"]
