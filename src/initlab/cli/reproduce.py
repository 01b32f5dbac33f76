"""``initlab reproduce``: the classic initialization papers re-measured here, with a verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from initlab.cli.common import console, console_err, fail, print_json


def _value(text: str) -> Any:
    """``"3"`` → 3, ``"0.5"`` → 0.5, ``"10,30"`` → (10, 30), ``"he"`` → "he"."""
    if "," in text:
        return tuple(_value(p.strip()) for p in text.split(",") if p.strip())
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["steps=50", "depths=10,30"]`` → ``{"steps": 50, "depths": (10, 30)}``."""
    from initlab.errors import InitError

    out: dict[str, Any] = {}
    for item in items:
        key, eq, val = item.partition("=")
        if not eq or not key.strip() or not val.strip():
            raise InitError(f"--set expects KEY=VALUE (e.g. --set steps=100), got {item!r}")
        out[key.strip()] = _value(val.strip())
    return out


def reproduce(
    name: str = typer.Argument(
        None, help="Which reproduction (see the list: initlab reproduce), or 'all'."),
    quick: bool = typer.Option(
        False, "--quick", help="Scaled-down preset: well under a minute each on 2 CPU cores."),
    out: Path = typer.Option(Path("initlab-out/reproduce"),
                             help="Folder for NAME.json (the numbers) and NAME.png (the figure)."),
    set_: list[str] = typer.Option(
        [], "--set", help="Override a setting, KEY=VALUE (repeatable), e.g. --set seeds=3."),
    plot: bool = typer.Option(True, help="Save the figure (--no-plot to skip)."),
    strict: bool = typer.Option(
        False, help="Exit 1 when a verdict is not 'supported'."),
    json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    device: str = typer.Option("cpu", help="Device to train on (cpu, cuda, cuda:1, mps)."),
) -> None:
    """Reproduce a classic initialization result and say whether its claim held here.

    Without NAME: list the reproductions (with --quick: run them all, quick). Each run writes a
    JSON of the measured numbers and a figure, and prints a verdict computed from the run.

    Example:  initlab reproduce he2015 --quick --out results/
    """
    from initlab.errors import InitError
    from initlab.lab.reproduce import NAMES, available_reproductions, get_reproduction
    from initlab.report.reproduce_figures import (
        plot_reproduction,
        reproductions_table,
        result_table,
        verdicts_table,
    )

    try:
        from initlab.devices import resolve_device

        dev = resolve_device(device, option="--device")
        overrides = parse_overrides(set_)
        if name is None and not quick:
            items = available_reproductions()
            if json:
                print_json([r.to_dict() for r in items])
            else:
                console.print(reproductions_table(items))
                console.print("run one:  initlab reproduce NAME [--quick]   ·   all quick:  "
                              "initlab reproduce --quick")
            return
        names = list(NAMES) if name is None or name.strip().lower() == "all" else [name]
        reps = [get_reproduction(n) for n in names]
        from initlab.files import check_output_path, write_text_atomic

        out = check_output_path(out, option="--out", directory=True, create=False)  # before any run
        if overrides and len(reps) > 1:
            raise InitError("--set applies to one reproduction; name it (initlab reproduce "
                            "NAME --set KEY=VALUE)")
        results, files = [], []
        for rep in reps:
            with console_err.status(f"running {rep.name} ({'quick' if quick else 'full'})…"):
                result = rep.run(quick=quick, device=dev, **overrides)
            out.mkdir(parents=True, exist_ok=True)
            jpath = out / f"{rep.name}.json"
            write_text_atomic(jpath, result.to_json())
            fpath = plot_reproduction(result, out / f"{rep.name}.png") if plot else None
            results.append(result)
            files.append({"json": str(jpath), "figure": None if fpath is None else str(fpath)})
            if not json:
                console.print(result_table(result))
                console.print(f"numbers: [bold]{jpath}[/bold]"
                              + (f"   figure: [bold]{fpath}[/bold]" if fpath else ""))
    except InitError as e:
        fail(f"{e} (initlab reproduce --help)")
    if json:
        data = [{**r.to_dict(), "files": f} for r, f in zip(results, files, strict=True)]
        print_json(data[0] if len(data) == 1 else data)
    elif len(results) > 1:
        console.print(verdicts_table(results))
    if strict and any(r.verdict.value != "supported" for r in results):
        raise SystemExit(1)


def register(app: typer.Typer) -> None:
    app.command("reproduce")(reproduce)
