"""Helpers shared by the CLI commands: consoles, the one-line error, JSON output."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

from rich.console import Console

console = Console()
console_err = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one red line on stderr and exit with ``code`` (2: bad usage or input)."""
    console_err.print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)
    raise SystemExit(code)


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout (plain, no colour, so it can be piped)."""
    sys.stdout.write(json.dumps(data, indent=2, default=_default) + "\n")


def _default(o: Any) -> Any:
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)
