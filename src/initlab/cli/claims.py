"""``initlab claims``: the texts' claims about initialization, each run as an experiment with a
measured verdict."""

from __future__ import annotations

from pathlib import Path

import typer

from initlab.cli.common import console, fail, print_json


def claims(
    name: str = typer.Argument(None, help="One claim (e.g. symmetry); omit to run all, quick."),
    quick: bool = typer.Option(False, "--quick", help="Small sizes and 3–4 seeds (seconds)."),
    seeds: int = typer.Option(None, help="Number of seeds (default: the claim's quick/full)."),
    out: Path = typer.Option(Path("initlab-out/claims"), help="Folder for the figures."),
    plot: bool = typer.Option(True, help="Save each claim's figure (--no-plot to skip)."),
    html: Path = typer.Option(None, "--html", help="Write an HTML report with every figure."),
    json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    list_: bool = typer.Option(False, "--list", help="List the claims and exit."),
    device: str = typer.Option("cpu", help="Device to run on (cpu, cuda, cuda:1, mps)."),
) -> None:
    """Run the texts' claims as experiments: numbers, a figure, and a verdict computed from them.

    With a NAME, runs that claim (full size unless --quick) and prints its effects (measured ±
    standard error over seeds, and what the claim predicts). Without one, runs the quick version
    of every claim and prints one table. Verdicts: supported / partly / not supported.

    Example:  initlab claims symmetry --quick --html claims.html
    """
    from initlab.errors import InitError
    from initlab.lab.claims import available_claims, claim_module, run_claim
    from initlab.report.claims_figures import claims_table, plot_claim, result_table

    names = available_claims()
    if list_:
        for n in names:
            console.print(f"[bold]{n}[/bold]: {claim_module(n).TITLE}")
        return
    if name is not None and name not in names:
        fail(f"unknown claim {name!r}; choose from {', '.join(names)} (initlab claims --list)")
    from initlab.cli.common import HTML_SUFFIXES, check_device, checked, output_file
    from initlab.files import check_output_path

    dev = checked(check_device, device)

    html = output_file(html, HTML_SUFFIXES, "--html")  # outputs checked before any claim runs
    if plot:
        out = checked(check_output_path, out, option="--out", directory=True, create=False)
    todo = [name] if name is not None else names
    run_quick = quick or name is None
    results = []
    figures: dict[str, str | None] = {}
    try:
        for n in todo:
            if not json:
                console.print(f"[dim]running {n}…[/dim]")
            kwargs = {} if seeds is None else {"seeds": seeds}
            r = run_claim(n, quick=run_quick, device=dev, **kwargs)
            results.append(r)
            figures[n] = str(plot_claim(r, out / f"{n}.png")) if plot else None
    except InitError as e:
        fail(f"{e} (initlab claims --help)")
    html_path = None
    if html is not None:
        from initlab.report.claims_html import write_claims_html

        html_path = write_claims_html(results, html)
    if json:
        data = [dict(r.to_dict(), figure_path=figures.get(r.name)) for r in results]
        print_json({"results": data, "html": str(html_path) if html_path else None}
                   if len(data) != 1 else dict(data[0], html=str(html_path) if html_path
                                               else None))
        return
    if len(results) == 1:
        r = results[0]
        console.print(result_table(r))
        console.print(r.reason, highlight=False)
        console.print(f"[dim]source: {r.source}[/dim]", highlight=False)
    else:
        console.print(claims_table(results))
    for n, p in figures.items():
        if p is not None:
            console.print(f"figure ({n}): [bold]{p}[/bold]")
    if html_path is not None:
        console.print(f"report: [bold]{html_path}[/bold]")


def register(app: typer.Typer) -> None:
    app.command("claims")(claims)
