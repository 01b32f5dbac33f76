"""``initlab demo``: the seeds' central lesson in one command."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from initlab.cli.common import console, print_json


def demo(
    depth: int = typer.Option(50, min=1, help="Number of hidden layers."),
    width: int = typer.Option(256, min=1, help="Units per layer."),
    batch: int = typer.Option(256, min=2, help="Batch size of the random input."),
    seed: int = typer.Option(0, help="Seed of the input, weights and upstream gradient."),
    out: Path = typer.Option(
        Path("initlab-out/demo.png"),
        help="Where to save the figure (.png, .svg, .pdf); the histogram grids go beside it "
        "as <name>_hist_<activation>.<ext>.",
    ),
    plot: bool = typer.Option(True, help="Save the figure (--no-plot to skip)."),
    json: bool = typer.Option(False, "--json", help="Print the per-layer numbers as JSON."),
    device: str = typer.Option("cpu", help="Device to run on (cpu, cuda, cuda:1, mps)."),
    progress: bool = typer.Option(True, help="Progress bar (--no-progress to hide)."),
    threads: int = typer.Option(
        1, min=1, help="torch threads (1: the demo's 256-wide matrices gain little from more, and "
        "OpenMP spin-waiting makes 2+ threads much slower on a busy machine)."
    ),
) -> None:
    """Watch signal and gradient vanish, explode or survive through a deep MLP.

    Builds a deep MLP with tanh and with ReLU, initializes it with all-zeros, N(0, 0.01²),
    N(0, 0.05²), N(0, 1), Xavier and He, runs the doctor (one forward and backward pass on random
    input) on each, prints the per-layer table and verdict per scheme, then saves the figures.

    Example:  initlab demo --depth 30 --out demo.png
    """
    from initlab.cli.common import (
        FIGURE_SUFFIXES,
        check_memory,
        checked,
        mlp_memory,
        output_file,
    )

    acts = ("tanh", "relu")
    paths: list[Path] = []
    if plot:  # every output path is checked before the work
        out = output_file(out, FIGURE_SUFFIXES, "--out")
        paths = [out] + [out.with_name(f"{out.stem}_hist_{a}{out.suffix}") for a in acts]
        for p in paths[1:]:
            output_file(p, FIGURE_SUFFIXES, "--out")
    # float64; one net at a time; the doctor keeps its per-layer statistics only
    checked(check_memory, mlp_memory(depth, width, batch, bytes_per_value=8),
                 f"demo --depth {depth} --width {width} --batch {batch}",
                 "use a smaller --depth, --width or --batch")

    import torch

    from initlab.cli.common import check_device, show_progress
    from initlab.lab.demo import DEMO_SCHEMES, run_demo
    from initlab.report.demo import demo_figure, demo_histograms, demo_tables

    dev = checked(check_device, device)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    total = len(acts) * len(DEMO_SCHEMES)
    try:
        with _progress(show_progress(progress and not json), total) as step:
            result = run_demo(depth=depth, width=width, batch=batch, seed=seed, activations=acts,
                              device=dev, on_curve=step)
    finally:
        torch.set_num_threads(before)

    def figures() -> list[Path]:
        # all three figures go to temporary files first and are renamed together at the end:
        # a Ctrl-C while saving leaves none of them, never 2 of 3
        import contextlib

        from initlab.files import atomic_output

        with contextlib.ExitStack() as stack:
            tmps = [stack.enter_context(atomic_output(p)) for p in paths]
            demo_figure(result, tmps[0])
            for act, tmp in zip(acts, tmps[1:], strict=True):
                demo_histograms(result, tmp, act)
        return paths

    if json:
        print_json(result.to_dict())
        if plot:
            figures()
        return
    console.print(demo_tables(result))
    if plot:
        for path in figures():
            console.print(f"figure: [bold]{path}[/bold]")


@contextmanager
def _progress(show: bool, total: int) -> Iterator[Callable[[str, str], None]]:
    """A rich progress bar on stderr, advanced once per (activation, scheme) run."""
    if not show:
        yield lambda act, scheme: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from initlab.cli.common import console_err

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console_err,
                  transient=True) as prog:
        task = prog.add_task("demo", total=total)
        started = [False]

        def step(act: str, scheme: str) -> None:
            if started[0]:
                prog.advance(task)
            started[0] = True
            prog.update(task, description=f"{act} · {scheme}")

        yield step
        prog.advance(task)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
