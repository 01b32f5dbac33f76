"""The ``initlab`` script's entry point: Ctrl-C is one line at any moment, start-up included.

Building the CLI imports typer, rich and the command modules; a Ctrl-C while that happens would
print a traceback from deep inside whichever library was loading. This module imports nothing
until :func:`main` runs, so the interrupt is caught wherever it lands.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; an interrupt anywhere prints ``interrupted`` and exits 130."""
    try:
        from initlab.cli import main as cli_main

        cli_main(argv)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None


__all__ = ["main"]
