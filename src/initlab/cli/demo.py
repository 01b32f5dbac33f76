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
) -> None:
    """Watch signal and gradient vanish, explode or survive through a deep MLP.

    Builds a deep MLP with tanh and with ReLU, initializes it with all-zeros, small random
    N(0, 0.01²), N(0, 1), Xavier and He, runs one forward and backward pass on random input and
    prints per-layer activation and gradient std through depth, then saves a figure.

    Example:  initlab demo --depth 30 --out demo.png
    """
    from initlab.lab.demo import run_demo
    from initlab.report.demo import demo_figure, demo_tables

    result = run_demo(depth=depth, width=width, batch=batch, seed=seed)
    if json:
        print_json(result.to_dict())
        if plot:
            demo_figure(result, out)
        return
    console.print(demo_tables(result))
    if plot:
        path = demo_figure(result, out)
        console.print(f"figure: [bold]{path}[/bold]")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
