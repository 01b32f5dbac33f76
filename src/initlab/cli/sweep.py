"""``initlab sweep``: a grid of training runs in an SQLite store that survives a kill;
``initlab sweep show STORE``: its tables and heatmaps."""

from __future__ import annotations

from pathlib import Path

import typer

from initlab.cli.common import console, console_err, fail, print_json

sweep_app = typer.Typer(
    name="sweep",
    invoke_without_command=True,
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode="rich",
)


@sweep_app.callback(invoke_without_command=True)
def sweep(
    ctx: typer.Context,
    grid: str | None = typer.Option(
        None, "--grid", "-g",
        help="Space-separated key=v1,v2 axes, e.g. \"init=xavier,he depth=10,30 "
        "activation=tanh,relu lr=0.01,0.1 seed=0,1,2\". Keys: init, sigma_w2, sigma_b2, "
        "dataset, model, activation, depth, width, lr, epochs, batch_size, optimizer, seed, "
        "n_train, n_test, standardize."),
    store: Path = typer.Option(Path("initlab-out/runs.sqlite"), "--store", "-s",
                               help="SQLite file: one row per finished run."),
    resume: bool = typer.Option(False, "--resume", help="Skip the runs already in the store."),
    workers: int = typer.Option(1, "--workers", "-w", help="Local worker processes."),
    backend: str = typer.Option("local", help="local, or ray (needs initlab[cluster])."),
    address: str | None = typer.Option(
        None, help="Ray cluster address (auto, ray://host:10001); default: a local Ray."),
    json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    device: str = typer.Option(
        "cpu", help="Device every run trains on (cpu, cuda, cuda:1, mps; local backend)."),
) -> None:
    """Run a grid of training runs; each finished run is stored at once (SQLite, one
    transaction), so a killed sweep resumes with --resume without losing or repeating a run.

    Example:  initlab sweep --grid "init=xavier,he depth=2,4 seed=0,1" --store runs.sqlite
    """
    if ctx.invoked_subcommand is not None:
        return
    if grid is None:
        fail("give --grid \"key=v1,v2 ...\" to run a sweep, or `initlab sweep show STORE` "
             "(initlab sweep --help)")
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from initlab.cli.common import check_device, checked
    from initlab.errors import InitError
    from initlab.lab.sweep import parse_grid, run_sweep

    dev = checked(check_device, device)
    try:
        g = parse_grid(grid)
    except InitError as e:
        fail(f"{e} (initlab sweep --help)")
    prog = None if json else Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console_err, transient=True)
    task = prog.add_task(f"sweep → {store}", total=len(g)) if prog is not None else None

    def on_run(rid: str, cfg: dict, rec: dict) -> None:
        if prog is not None and task is not None:
            prog.advance(task)

    try:
        if prog is not None:
            prog.start()
        try:
            result = run_sweep(g, store, resume=resume, workers=workers, backend=backend,
                               address=address, on_run=on_run, device=dev)
        finally:
            if prog is not None:
                prog.stop()
    except InitError as e:
        fail(f"{e} (initlab sweep --help)")
    if json:
        print_json(result.to_dict())
    else:
        console.print(f"{result.ran} run(s) finished now, {result.skipped} already in the store, "
                      f"{result.total} in the grid → [bold]{result.store}[/bold] "
                      f"({result.seconds:.1f} s)")
        console.print(f"see it: initlab sweep show {result.store}")
    if result.interrupted:  # the store holds every finished run (one transaction each)
        console_err.print(f"[bold red]interrupted: {result.skipped + result.ran} of "
                          f"{result.total} runs are in the store {result.store}; --resume "
                          "continues[/bold red]", highlight=False, soft_wrap=True)
        raise SystemExit(2)


@sweep_app.command("show")
def show(
    store: Path = typer.Argument(..., help="The sweep's SQLite store."),
    x: str | None = typer.Option(None, "--x", help="Key on the heatmap's x axis."),
    y: str | None = typer.Option(None, "--y", help="Key on the heatmap's y axis."),
    metric: str = typer.Option("accuracy", help="accuracy or loss."),
    out: Path | None = typer.Option(
        None, help="Heatmap PNG (default: next to the store, STORE_heatmap.png)."),
    plot: bool = typer.Option(True, help="Draw the heatmaps (--no-plot: the table only)."),
    json: bool = typer.Option(False, "--json", help="Print the grouped results as JSON."),
) -> None:
    """Tables and heatmaps of a sweep store: mean ± std over seeds per setting; the mean final
    accuracy over two keys (e.g. depth × sigma_w2), a panel per value of the other keys.

    Example:  initlab sweep show runs.sqlite --x depth --y sigma_w2
    """
    from initlab.errors import InitError
    from initlab.lab.sweep import load_runs, summarize_runs
    from initlab.report.sweep_figures import plot_heatmaps, sweep_table

    try:
        runs = load_runs(store)
        path = None
        if plot and runs:
            target = out or store.with_name(f"{store.stem}_heatmap.png")
            try:
                path = plot_heatmaps(runs, target, x=x, y=y, metric=metric)
            except InitError as e:
                if x is not None or y is not None or metric != "accuracy":
                    raise
                console_err.print(f"[dim]no heatmap: {e}[/dim]")
    except InitError as e:
        fail(f"{e} (initlab sweep show --help)")
    if json:
        print_json({"store": str(store), "runs": len(runs),
                    "groups": [g.to_dict() for g in summarize_runs(runs)],
                    "figure": str(path) if path else None})
        return
    console.print(sweep_table(runs, title=str(store)))
    if path is not None:
        console.print(f"figure: [bold]{path}[/bold]")


def register(app: typer.Typer) -> None:
    app.add_typer(sweep_app, name="sweep")
