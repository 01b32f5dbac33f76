"""The ``initlab`` script's entry point: Ctrl-C is one line at any moment, start-up included.

Building the CLI imports typer, rich and the command modules; a Ctrl-C while that happens would
print a traceback from deep inside whichever library was loading. This module imports nothing
until :func:`main` runs, so the interrupt is caught wherever it lands. An interrupt exits 2, like
any other run that did not complete, with one line on stderr that says what was left:
``interrupted: nothing was written``, or the files the command had already completed
(:func:`initlab.files.interrupt_note`).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; an interrupt anywhere prints one ``interrupted: ...`` line and exits 2.

    Examples:
        >>> main(["--version"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        SystemExit: 0
    """
    mark = 0
    try:
        from initlab.files import write_mark

        mark = write_mark()
        from initlab.cli import main as cli_main

        cli_main(argv)
    except KeyboardInterrupt:
        try:
            from initlab.files import interrupt_note

            line = interrupt_note(mark)
        except BaseException:  # a second Ctrl-C, or the module never loaded: nothing known
            line = "interrupted (exit 2)"
        sys.stderr.write(line + "\n")
        raise SystemExit(2) from None


__all__ = ["main"]
