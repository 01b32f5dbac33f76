"""``initlab compare``: the seeds' training comparison (zeros, N(0, 1), Xavier, He)."""

from __future__ import annotations

from pathlib import Path

import typer

from initlab.cli.common import console, fail, print_json


def compare(
    activation: str = typer.Option("relu", help="Activation after every hidden layer."),
    depth: int = typer.Option(6, help="Number of hidden layers (≥ 1)."),
    width: int = typer.Option(64, help="Units per hidden layer (≥ 1)."),
    epochs: int = typer.Option(15, help="Training epochs per scheme (≥ 1)."),
    schemes: str = typer.Option(
        "zeros,normal,xavier,he", help="Comma-separated schemes: zeros, normal, xavier, he."
    ),
    lr: float = typer.Option(0.01, help="Learning rate."),
    optimizer: str = typer.Option("sgd", help="sgd (momentum 0.9) or adam."),
    seed: int = typer.Option(0, help="Seed of the split, the weights and the batch order."),
    out: Path = typer.Option(Path("initlab-out/compare.png"), help="Where to save the figure."),
    plot: bool = typer.Option(True, help="Save the figure (--no-plot to skip)."),
    json: bool = typer.Option(False, "--json", help="Print the runs (RunRecords) as JSON."),
) -> None:
    """Train the same deep MLP on the bundled digits once per initialization scheme.

    zeros never breaks symmetry (stays at chance, ~10 %), N(0, 1) blows up the loss, Xavier and
    He train. Prints the final train loss, test accuracy and divergence per scheme and saves loss
    curves (log scale) and an accuracy bar chart. Offline: scikit-learn's 8×8 digits.

    Example:  initlab compare --activation tanh --depth 8 --epochs 10 --out cmp.png
    """
    from initlab.errors import InitError
    from initlab.lab.compare import compare_inits
    from initlab.report.compare_figures import compare_table, plot_comparison

    names = tuple(s.strip() for s in schemes.split(",") if s.strip())
    try:
        result = compare_inits(names, activation=activation, depth=depth, width=width,
                               epochs=epochs, seed=seed, lr=lr, optimizer=optimizer)
    except InitError as e:
        fail(f"{e} (initlab compare --help)")
    path = plot_comparison(result, out) if plot else None
    if json:
        data = result.to_dict()
        data["figure"] = str(path) if path is not None else None
        print_json(data)
        return
    console.print(compare_table(result))
    if path is not None:
        console.print(f"figure: [bold]{path}[/bold]")


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
