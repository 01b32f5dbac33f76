"""``initlab demo``: the seeds' central lesson in one command."""

from __future__ import annotations

from pathlib import Path

import typer

from initlab.cli.common import console, print_json


def demo(
    depth: int = typer.Option(50, min=1, help="Number of hidden layers."),
    width: int = typer.Option(256, min=1, help="Units per layer."),
    batch: int = typer.Option(256, min=2, help="Batch size of the random input."),
    seed: int = typer.Option(0, help="Seed of the input, weights and upstream gradient."),
    out: Path = typer.Option(Path("initlab-out/demo.png"), help="Where to save the figure."),
    plot: bool = typer.Option(True, help="Save the figure (--no-plot to skip)."),
    json: bool = typer.Option(False, "--json", help="Print the per-layer numbers as JSON."),
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
    import torch

    from initlab.lab.demo import run_demo
    from initlab.report.demo import demo_figure, demo_histograms, demo_tables

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        result = run_demo(depth=depth, width=width, batch=batch, seed=seed)
    finally:
        torch.set_num_threads(before)

    def figures() -> list[Path]:
        paths = [demo_figure(result, out)]
        for act in dict.fromkeys(c.activation for c in result.curves):
            hist = out.with_name(f"{out.stem}_hist_{act}{out.suffix or '.png'}")
            paths.append(demo_histograms(result, hist, act))
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


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
